// Entry of the engine process: owns the native addon and the loaded model, runs one job at a time.
// A native crash here kills only this process; the host notices and restarts it on demand.
import type { EngineMethods, EngineToHost, GenerateParams, HostToEngine } from '../shared/engine-protocol';
import { loadAddon } from './addon';
import { readDevices } from './backend-report';
import { generate } from './generate';
import { tokenizePrompt } from './prompt-tokens';
import { connectToHost } from './host-port';
import { ModelSlot } from './model-slot';
import { datasetJobs } from './dataset-jobs';
import type { EngineContext } from './engine-context';
import { gattJobs } from './gatt-jobs';
import { trainJobs } from './train-jobs';

const port = connectToHost();
const addon = loadAddon();
const slot = new ModelSlot(addon);
const stopRequested = new Set<string>();
const stepDelayMs = Number(process.env.PADDOCK_ENGINE_STEP_DELAY_MS ?? 0) || 0;
let queue: Promise<unknown> = Promise.resolve();

/** Jobs run strictly one after another: the model and its KV cache are single-user. */
function serialized<T>(fn: () => Promise<T>): Promise<T> {
  const run = queue.then(fn, fn);
  queue = run.catch(() => undefined);
  return run;
}

async function runGenerate(p: GenerateParams) {
  if (stopRequested.delete(p.jobId)) {
    return {
      text: '',
      stats: {
        promptTokens: 0, completionTokens: 0, timeToFirstTokenMs: 0, tokensPerSecond: 0, seed: p.settings.seed, stopReason: 'user_stop' as const,
        contextPolicy: p.settings.contextPolicy ?? 'truncate', truncatedTokens: 0, contextShifts: 0, shiftedTokens: 0,
      },
    };
  }
  const { model, cache, backend } = await slot.acquire(p.modelPath, p.tokenizerPath, p.contextLength, p.threads, {
    device: p.device,
    gpuLayers: p.gpuLayers,
  });
  await slot.useAdapter(p.adapterPath ?? null);
  const { tokens, ...layout } = p.parts
    ? tokenizePrompt(
        {
          bosId: model.info.bosId,
          eosId: model.info.eosId,
          encode: (text, special) => model.tokenize(text, false, special),
          tokenBytes: (id) => model.tokenBytes(id),
          tokenText: (id) => model.tokenText(id),
        },
        p.parts,
      )
    : { tokens: model.tokenize(p.prompt, true), keep: 1, turnStarts: [] };
  try {
    const result = await generate(addon, model, cache, tokens, {
      settings: p.settings,
      layout,
      stepDelayMs,
      shouldStop: () => stopRequested.has(p.jobId),
      onText: (text) => port.send({ type: 'token', jobId: p.jobId, text }),
    });
    return { ...result, backend };
  } catch (err) {
    cache.reset(); // the KV cache may be half-written: start clean next time
    throw err;
  } finally {
    stopRequested.delete(p.jobId);
  }
}

const ctx: EngineContext = {
  addon,
  slot,
  serialized,
  emit: (jobId, event) => port.send({ type: 'event', jobId, event }),
  stepDelayMs,
};

const handlers: { [M in keyof EngineMethods]: (p: EngineMethods[M]['params']) => Promise<EngineMethods[M]['result']> } = {
  readModelInfo: (p) => addon.readModelInfo(p.path, p.tokenizerPath ? { tokenizerPath: p.tokenizerPath } : undefined),
  generate: (p) => serialized(() => runGenerate(p)),
  stop: async (p) => {
    stopRequested.add(p.jobId);
    return { stopped: true };
  },
  ping: async () => ({ pid: process.pid }),
  devices: async () => readDevices(addon),
  ...datasetJobs(ctx),
  ...trainJobs(ctx),
  ...gattJobs(ctx),
};

port.onMessage((msg: HostToEngine) => {
  if (msg.type !== 'request') return;
  const handler = handlers[msg.method] as (p: unknown) => Promise<unknown>;
  const reply = (m: EngineToHost) => port.send(m);
  if (!handler) {
    reply({ type: 'response', id: msg.id, error: { code: 'INTERNAL', message: `Unknown engine method ${msg.method}` } });
    return;
  }
  handler(msg.params).then(
    (result) => reply({ type: 'response', id: msg.id, result }),
    (err: { code?: string; message?: string }) =>
      reply({ type: 'response', id: msg.id, error: { code: err?.code ?? 'ENGINE_ERROR', message: err?.message ?? String(err) } }),
  );
});

port.send({ type: 'ready', pid: process.pid });
