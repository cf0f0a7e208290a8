// The engine keeps one model loaded (with its context and KV cache) and swaps it on demand.
// LoRA adapters are hot-swapped on that one base (compare: base and fine-tuned replies without
// loading the model twice); loaded adapters are kept by path while their base stays loaded.
// The context is created on the device the user chose (auto / cpu / cuda, GPU layers); a change
// of device settings reloads, and `backend` says what the context really runs on.
import type { BackendReport, DeviceChoice } from '../shared/contract-system';
import type { Addon, NativeAdapter, NativeModel } from './addon';
import { contextBackendReport } from './backend-report';
import { CachedContext } from './generate';

export interface DeviceOptions {
  device?: DeviceChoice;
  gpuLayers?: number;
}

export class ModelSlot {
  private current?: {
    key: string;
    model: NativeModel;
    cache: CachedContext;
    adapters: Map<string, NativeAdapter>;
    attached: string | null;
    backend: BackendReport;
  };

  constructor(private readonly addon: Addon) {}

  async acquire(path: string, tokenizerPath: string | null, contextLength?: number, threads?: number, devices: DeviceOptions = {}) {
    const device = devices.device ?? 'auto';
    const key = JSON.stringify([path, tokenizerPath, contextLength ?? 0, threads ?? 0, device, devices.gpuLayers ?? -1]);
    if (this.current?.key === key) return this.current;
    this.release();
    const model = await this.addon.loadModel(path, tokenizerPath ? { tokenizerPath } : undefined);
    // device 'cuda' without a usable GPU throws (the reply shows why); 'auto' falls back with a notice.
    let ctx;
    try {
      ctx = model.createContext({ contextLength, threads, device, ...(devices.gpuLayers !== undefined && { gpuLayers: devices.gpuLayers }) });
    } catch (err) {
      model.dispose();
      throw err;
    }
    const backend = contextBackendReport(ctx, device, model.info.layerCount);
    this.current = { key, model, cache: new CachedContext(ctx), adapters: new Map(), attached: null, backend };
    return this.current;
  }

  /**
   * Attaches the adapter at `adapterPath` (a GGUF LoRA file or a PEFT folder) to the loaded
   * model's context, or detaches any with null. The KV cache was computed with the previous set:
   * it is emptied. Only "no adapter, none attached here" is skipped (plain chat keeps its cache):
   * other jobs may attach adapters to this context themselves, so any other request sets the set.
   */
  async useAdapter(adapterPath: string | null): Promise<void> {
    const cur = this.current;
    if (!cur) throw new Error('useAdapter: no model is loaded');
    if (adapterPath === null && cur.attached === null) return;
    if (!cur.cache.ctx.setAdapters) throw new Error('this engine build cannot attach LoRA adapters');
    let adapter: NativeAdapter | undefined;
    if (adapterPath) {
      adapter = cur.adapters.get(adapterPath) ?? (await this.addon.loadAdapter(cur.model, adapterPath));
      cur.adapters.set(adapterPath, adapter);
    }
    cur.cache.ctx.setAdapters(adapter ? [{ adapter }] : []);
    cur.cache.reset();
    cur.attached = adapterPath;
  }

  /** Forgets a loaded adapter (its file was rewritten: the next use reads it again). */
  forgetAdapter(adapterPath: string): void {
    if (!this.current) return;
    this.current.adapters.delete(adapterPath);
    if (this.current.attached === adapterPath) {
      this.current.cache.ctx.setAdapters?.([]);
      this.current.cache.reset();
      this.current.attached = null;
    }
  }

  release(): void {
    if (!this.current) return;
    this.current.cache.ctx.dispose();
    this.current.model.dispose();
    this.current = undefined;
  }
}
