// The Datasets view's state: the list of datasets, the selected one (its summary, revisions and
// last validation), the open row, and the actions that make revisions (edit, bulk, split, undo,
// redo). The table's paging lives in datasets/row-pages.svelte.ts; this file owns one instance.
// Errors are thrown to the caller (the view shows a toast or an inline message).
import type {
  DatasetRow,
  DatasetSummary,
  RowFilter,
  ValidationReport,
} from '../../../electron/shared/contract-datasets';
import { RowPages } from '../datasets/row-pages.svelte';
import { api, type CallRequest, type CallResponse } from './api';

export type DatasetTab = 'rows' | 'quarantine' | 'validate' | 'stats' | 'mask';
export type Revision = CallResponse<'datasets.revisions'>[number];
export type BulkAction = CallRequest<'datasets.bulk'>['action'];

const byName = (a: DatasetSummary, b: DatasetSummary) => a.name.localeCompare(b.name) || a.createdAt.localeCompare(b.createdAt);
const SELECTED_KEY = 'paddock.dataset';

class Datasets {
  list = $state<DatasetSummary[]>([]);
  loaded = $state(false);
  selectedId = $state<string | null>(null);
  selected = $derived(this.list.find((d) => d.id === this.selectedId) ?? null);
  tab = $state<DatasetTab>('rows');

  revisions = $state<Revision[]>([]);
  validation = $state<ValidationReport | null>(null);

  /** The row open in the editor (the stored version; the editor keeps its own draft). */
  openRow = $state<DatasetRow | null>(null);
  readonly pages = new RowPages();

  constructor() {
    // Another window, the CLI or a background job changed a dataset: catch up.
    api.on('datasets.changed', (p) => {
      const known = this.list.find((d) => d.id === p.datasetId);
      if (!known || known.revision !== p.revision) void this.refresh(p.datasetId).catch(() => {});
    });
  }

  async load(): Promise<void> {
    this.list = (await api.call('datasets.list', {})).sort(byName);
    this.loaded = true;
    const remembered = this.selectedId ?? localStorage.getItem(SELECTED_KEY);
    const keep = remembered && this.list.some((d) => d.id === remembered) ? remembered : (this.list[0]?.id ?? null);
    if (keep !== this.selectedId || !this.pages.datasetId) await this.select(keep);
    else this.pages.invalidate();
  }

  async select(id: string | null): Promise<void> {
    this.selectedId = id;
    if (id) localStorage.setItem(SELECTED_KEY, id);
    this.openRow = null;
    this.validation = null;
    this.revisions = [];
    this.pages.reset(id);
    if (!id) return;
    const [validation, revisions] = await Promise.all([
      api.call('datasets.lastValidation', { datasetId: id }),
      api.call('datasets.revisions', { datasetId: id }),
    ]);
    if (this.selectedId !== id) return;
    this.validation = validation;
    this.revisions = revisions;
  }

  /** Replaces one summary in the list (after any call that returns it). */
  put(summary: DatasetSummary): void {
    const i = this.list.findIndex((d) => d.id === summary.id);
    if (i >= 0) this.list[i] = summary;
    else this.list = [...this.list, summary].sort(byName);
  }

  /** Re-reads a dataset after a change: its summary, revisions, the visible rows and the open row. */
  async refresh(id = this.selectedId): Promise<void> {
    if (id) await this.afterChange(await api.call('datasets.get', { datasetId: id }));
  }

  private async afterChange(summary: DatasetSummary): Promise<void> {
    this.put(summary);
    if (summary.id !== this.selectedId) return;
    this.pages.invalidate();
    const [revisions] = await Promise.all([
      api.call('datasets.revisions', { datasetId: summary.id }),
      this.reloadOpenRow(),
    ]);
    if (summary.id === this.selectedId) this.revisions = revisions;
  }

  async import(req: CallRequest<'datasets.import'>): Promise<CallResponse<'datasets.import'>> {
    const result = await api.call('datasets.import', req);
    this.put(result.dataset);
    this.tab = 'rows';
    await this.select(result.dataset.id);
    return result;
  }

  async rename(id: string, name: string): Promise<void> {
    this.put(await api.call('datasets.rename', { datasetId: id, name }));
    this.list = [...this.list].sort(byName);
  }

  async remove(id: string): Promise<void> {
    await api.call('datasets.delete', { datasetId: id });
    this.list = this.list.filter((d) => d.id !== id);
    if (this.selectedId === id) {
      localStorage.removeItem(SELECTED_KEY);
      await this.select(this.list[0]?.id ?? null);
    }
  }

  // --- rows -------------------------------------------------------------------------------------

  async openRowById(rowId: string | null): Promise<void> {
    if (!rowId) {
      this.openRow = null;
      return;
    }
    const row = await api.call('datasets.row', { rowId });
    this.openRow = row;
  }

  private async reloadOpenRow(): Promise<void> {
    const open = this.openRow;
    if (!open) return;
    try {
      const row = await api.call('datasets.row', { rowId: open.id });
      if (this.openRow?.id === open.id) this.openRow = row;
    } catch {
      // Deleted by the change (e.g. undoing the revision that added it): close the editor.
      if (this.openRow?.id === open.id) this.openRow = null;
    }
  }

  async saveRow(edit: CallRequest<'datasets.updateRow'>): Promise<DatasetRow> {
    const row = await api.call('datasets.updateRow', edit);
    if (this.openRow?.id === row.id) this.openRow = row;
    await this.refresh(row.datasetId);
    return row;
  }

  async addRow(datasetId: string, messages: DatasetRow['messages']): Promise<DatasetRow> {
    const row = await api.call('datasets.addRow', { datasetId, messages });
    await this.refresh(datasetId);
    this.openRow = row;
    return row;
  }

  /** One bulk action on the given rows, or on every row matching `filter` when rowIds is omitted. */
  async bulk(action: BulkAction, target: { rowIds: string[] } | { filter: RowFilter }): Promise<number> {
    const id = this.selectedId;
    if (!id) return 0;
    const r = await api.call('datasets.bulk', { datasetId: id, action, ...target });
    this.pages.clearSelection();
    await this.afterChange(r.dataset);
    return r.affected;
  }

  async autoSplit(validation: number, test: number, seed: number): Promise<void> {
    const id = this.selectedId;
    if (!id) return;
    await this.afterChange(await api.call('datasets.autoSplit', { datasetId: id, validation, test, seed }));
  }

  async undo(): Promise<void> {
    const d = this.selected;
    if (!d?.canUndo) return;
    await this.afterChange(await api.call('datasets.undo', { datasetId: d.id }));
  }

  async redo(): Promise<void> {
    const d = this.selected;
    if (!d?.canRedo) return;
    await this.afterChange(await api.call('datasets.redo', { datasetId: d.id }));
  }

  /** The description of the revision an undo would revert / a redo would re-apply. */
  undoLabel = $derived(this.revisions.filter((r) => !r.undone).reduce<Revision | null>((a, r) => (!a || r.revision > a.revision ? r : a), null)?.description ?? null);
  redoLabel = $derived(this.revisions.filter((r) => r.undone).reduce<Revision | null>((a, r) => (!a || r.revision < a.revision ? r : a), null)?.description ?? null);

  async validate(modelId: string | undefined, maxTokens: number | undefined): Promise<ValidationReport> {
    const id = this.selectedId;
    if (!id) throw new Error('No dataset selected');
    const report = await api.call('datasets.validate', { datasetId: id, modelId, maxTokens });
    if (this.selectedId === id) this.validation = report;
    this.put(await api.call('datasets.get', { datasetId: id }));
    this.pages.invalidate();
    return report;
  }
}

export const datasets = new Datasets();
