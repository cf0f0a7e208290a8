// The model registry as the UI sees it: the list, the selected row, import and removal.
import type { ModelRecord } from '../../../electron/shared/contract';
import { api } from './api';

class Models {
  list = $state<ModelRecord[]>([]);
  loaded = $state(false);
  selectedId = $state<string | null>(null);
  selected = $derived(this.list.find((m) => m.id === this.selectedId) ?? null);
  /** The model a new conversation gets: the bundled one, else the first. */
  preferred = $derived(this.list.find((m) => m.bundled) ?? this.list[0] ?? null);

  async load(): Promise<void> {
    this.list = await api.call('models.list', {});
    this.loaded = true;
    if (this.selectedId && !this.list.some((m) => m.id === this.selectedId)) this.selectedId = null;
  }

  byId(id: string | null | undefined): ModelRecord | null {
    return (id && this.list.find((m) => m.id === id)) || null;
  }

  /** Imports a file; on success the new model is selected. Throws the server's error. */
  async import(path: string, tokenizerPath?: string): Promise<ModelRecord> {
    const model = await api.call('models.import', tokenizerPath ? { path, tokenizerPath } : { path });
    const i = this.list.findIndex((m) => m.id === model.id);
    if (i >= 0) this.list[i] = model;
    else this.list = [...this.list, model];
    this.selectedId = model.id;
    return model;
  }

  async remove(id: string): Promise<void> {
    await api.call('models.remove', { id });
    this.list = this.list.filter((m) => m.id !== id);
    if (this.selectedId === id) this.selectedId = null;
  }
}

export const models = new Models();
