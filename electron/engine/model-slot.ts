// The engine keeps one model loaded (with its context and KV cache) and swaps it on demand.
import type { Addon, NativeModel } from './addon';
import { CachedContext } from './generate';

export class ModelSlot {
  private current?: { key: string; model: NativeModel; cache: CachedContext };

  constructor(private readonly addon: Addon) {}

  async acquire(path: string, tokenizerPath: string | null, contextLength?: number, threads?: number) {
    const key = JSON.stringify([path, tokenizerPath, contextLength ?? 0, threads ?? 0]);
    if (this.current?.key === key) return this.current;
    this.release();
    const model = await this.addon.loadModel(path, tokenizerPath ? { tokenizerPath } : undefined);
    const ctx = model.createContext({ contextLength, threads });
    this.current = { key, model, cache: new CachedContext(ctx) };
    return this.current;
  }

  release(): void {
    if (!this.current) return;
    this.current.cache.ctx.dispose();
    this.current.model.dispose();
    this.current = undefined;
  }
}
