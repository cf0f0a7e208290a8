// Shared setup for unit tests: an in-memory core over the fake engine.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PaddockCore } from '../../electron/core/app';
import { FakeEngine, type FakeEngineOptions } from '../../electron/core/engine/fake-engine';
import type { CallName, CallRequest, CallResponse, EventName, EventPayload } from '../../electron/shared/contract';

/** A real (empty) file, so the registry's existence checks run; the fake engine "reads" it. */
export const FAKE_MODEL = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-unit-')), 'fake.gguf');
fs.writeFileSync(FAKE_MODEL, '');

export function makeCore(opts: FakeEngineOptions = {}, dataDir = ':memory:') {
  const engine = new FakeEngine({ models: { [FAKE_MODEL]: { name: 'fake' } }, ...opts });
  const core = new PaddockCore({ dataDir, engine, mode: 'browser', version: 'test' });
  const events: { event: EventName; payload: unknown }[] = [];
  core.onEvent((event, payload) => events.push({ event, payload }));
  /** Calls through the contract and throws the wire error, like the renderer sees it. */
  async function call<N extends CallName>(name: N, req: CallRequest<N>): Promise<CallResponse<N>> {
    const out = await core.call(name, req);
    if (!out.ok) throw Object.assign(new Error(out.error.message), { code: out.error.code });
    return out.result as CallResponse<N>;
  }
  const eventsOf = <E extends EventName>(e: E) => events.filter((x) => x.event === e).map((x) => x.payload as EventPayload<E>);
  return { core, engine, call, events, eventsOf };
}

export async function withModel(opts: FakeEngineOptions = {}) {
  const t = await makeCore(opts);
  const model = await t.call('models.import', { path: FAKE_MODEL });
  const conv = await t.call('chat.create', {});
  return { ...t, model, conv };
}
