// A real PaddockCore for runs tests: a SQLite file in a temp folder, the real engine process
// (ProcessEngine: the native addon, from source under tsx), the bundled stories260K registered,
// and a small dataset made through the datasets area: 8 dialogues from stories260K's own text to
// train on and 3 in the validation split.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PaddockCore } from '../../electron/core/app';
import { ProcessEngine } from '../../electron/core/engine/process-engine';
import type { CallName, CallRequest, CallResponse } from '../../electron/shared/contract';
import { bundledGguf, stories } from './testdata';

export async function startRunsCore(env: NodeJS.ProcessEnv = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-runs-it-'));
  const engine = new ProcessEngine(undefined, undefined, { ...process.env, ...env });
  const core = await new PaddockCore({ dataDir, engine, mode: 'browser', version: 'test', bundledModel: bundledGguf }).start();
  async function call<N extends CallName>(name: N, req: CallRequest<N>): Promise<CallResponse<N>> {
    const out = await core.call(name, req);
    if (!out.ok) throw Object.assign(new Error(out.error.message), { code: out.error.code });
    return out.result as CallResponse<N>;
  }
  const lines = fs.readFileSync(stories.expected, 'utf8').split(/(?<=\.)\s+/).filter((s) => s.length > 20);
  const rows = Array.from({ length: 11 }, (_, i) => ({
    kind: 'chat' as const,
    messages: [
      { role: 'user' as const, content: `Tell me part ${i + 1} of the story.`, train: true },
      { role: 'assistant' as const, content: lines[i % lines.length], train: true },
    ],
    split: i < 8 ? ('train' as const) : ('validation' as const),
  }));
  const datasetId = core.datasets.createFromRows('stories dialogues', 'openai', rows);
  const model = (await call('models.list', {}))[0];
  return { core, engine, call, datasetId, model, dataDir };
}

