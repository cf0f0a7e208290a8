// What the core's services share: the database, the engine, the model registry, the event stream
// and the data folder. Services take this one object so adding one doesn't reshape the others.
import type { output, ZodType } from 'zod';
import type { EventName, EventPayload } from '../shared/contract';
import type { Db } from './db/connection';
import type { EngineClient } from './engine/engine-client';
import type { ModelRegistry } from './models/model-registry';

export interface CoreDeps {
  db: Db;
  engine: EngineClient;
  models: ModelRegistry;
  emit<E extends EventName>(event: E, payload: EventPayload<E>): void;
  /** Folder for paddock.db and everything else Paddock writes (exports/, runs/); ':memory:' in unit tests. */
  dataDir: string;
}

/** Handlers of one area of the contract: each call's validated request (defaults applied) in, its response out. */
export type AreaHandlers<C extends Record<string, { request: ZodType; response: ZodType }>> = {
  [N in keyof C]: (req: output<C[N]['request']>) => Promise<output<C[N]['response']>> | output<C[N]['response']>;
};
