// What an area's engine handlers (dataset-jobs, train-jobs, gatt-jobs) get from the engine entry:
// the addon, the one loaded chat model, the job queue and a way to stream a job's events.
import type { EngineMethods } from '../shared/engine-protocol';
import type { Addon } from './addon';
import type { ModelSlot } from './model-slot';

export interface EngineContext {
  addon: Addon;
  slot: ModelSlot;
  /** Runs jobs strictly one after another (the model and its KV cache are single-user). */
  serialized<T>(fn: () => Promise<T>): Promise<T>;
  /** Streams one event of job `jobId` to the host (its `call(..., onEvent)`). */
  emit(jobId: string, event: unknown): void;
  /** Delay after each step (tests make a kill land mid-run on a tiny model). */
  stepDelayMs: number;
}

export type EngineHandlers<M extends keyof EngineMethods> = {
  [K in M]: (p: EngineMethods[K]['params']) => Promise<EngineMethods[K]['result']>;
};
