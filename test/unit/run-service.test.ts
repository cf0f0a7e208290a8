// The RunService over the fake engine: a scripted `train` job that streams TrainEvents, honours
// pause / cancel between steps, checkpoints every 2 steps and dies (ENGINE_CRASHED) on request;
// the dataset area's materialize is stood in for by a writer of one OpenAI-chat row per line
// until the datasets store lands. What is checked: the stored run, metrics, checkpoints, logs and
// events; the queue (one run at a time); pause / resume / cancel; crash -> interrupted -> resume
// with the steps after the checkpoint redone (a continuous curve); recover() after an app crash;
// the memory refusal; compare (both sides, adapter hot-swap) and preference records.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PaddockError } from '../../electron/core/errors';
import type { EngineMethods } from '../../electron/shared/engine-protocol';
import type { TrainEvent } from '../../electron/shared/engine-protocol-train';
import { FAKE_MODEL, makeCore } from './helpers';

const TOTAL = 6;
const SAVE_EVERY = 2;
const lossAt = (step: number) => 2 / step;

interface Script {
  crashAfterStep?: number;
  /** Resolves once per step (tests hold the run to act mid-run). */
  gate?: (step: number) => Promise<void>;
}

/** A fake trainer: its checkpoint is the last multiple of SAVE_EVERY reached (or the pause step), per run dir. */
function fakeTrainer(script: Script) {
  const checkpointOf = new Map<string, number>();
  const control = new Map<string, 'pause' | 'cancel'>();
  const calls: EngineMethods['train']['params'][] = [];
  const train = async (p: EngineMethods['train']['params'], onEvent: (e: unknown) => void): Promise<EngineMethods['train']['result']> => {
    calls.push(p);
    const emit = (e: TrainEvent) => onEvent(e);
    fs.writeFileSync(path.join(p.runDir, 'run.json'), JSON.stringify(p.config));
    let step = p.resume ? (checkpointOf.get(p.runDir) ?? 0) : 0;
    emit({ type: 'start', totalSteps: TOTAL, rows: 3, validationRows: 0, stepsDone: step, checkpointPath: path.join(p.runDir, 'checkpoint.safetensors'), trainableParameters: 100, bosId: 1, eosId: 2, eotId: -1 });
    const save = () => {
      checkpointOf.set(p.runDir, step);
      fs.writeFileSync(path.join(p.runDir, 'checkpoint.safetensors'), String(step));
      emit({ type: 'checkpoint', step, path: path.join(p.runDir, 'checkpoint.safetensors'), valLoss: lossAt(step) + 0.5, perplexity: Math.exp(lossAt(step) + 0.5) });
    };
    while (step < TOTAL) {
      const c = control.get(p.jobId);
      if (c) {
        if (checkpointOf.get(p.runDir) !== step) save();
        return { status: c === 'pause' ? 'paused' : 'cancelled', steps: step, totalSteps: TOTAL };
      }
      await script.gate?.(step + 1);
      step++;
      emit({ type: 'step', step, totalSteps: TOTAL, loss: lossAt(step), valLoss: null, lr: 1e-3, gradNorm: 1, tokensPerS: 100, seconds: 0.01 });
      if (step % SAVE_EVERY === 0) save();
      if (script.crashAfterStep === step) {
        script.crashAfterStep = undefined;
        throw new PaddockError('ENGINE_CRASHED', 'The engine process stopped (killed by SIGKILL). It restarts on the next request.');
      }
      await new Promise((r) => setImmediate(r));
    }
    return { status: 'done', steps: step, totalSteps: TOTAL };
  };
  const trainControl = async (p: EngineMethods['trainControl']['params']) => {
    control.set(p.jobId, p.action);
    return { ok: true };
  };
  const exportRun = async (p: EngineMethods['exportRun']['params']): Promise<EngineMethods['exportRun']['result']> => {
    fs.writeFileSync(p.out, 'adapter');
    return { path: p.out, file: { chatTemplate: null, bosId: 1, eosId: 2, eotId: -1, metadata: {} }, smokeChat: p.smoke ? 'Once upon a time' : null };
  };
  return { calls, methods: { train, trainControl, exportRun } };
}

async function setup(script: Script = {}) {
  const fake = fakeTrainer(script);
  const t = await makeCore({
    methods: fake.methods,
    reply: (p) => (p.adapterPath ? 'tuned reply' : 'base reply'),
  });
  const materialized: string[] = [];
  // Stand-in for the datasets store: the pinned version's rows as OpenAI chat JSONL.
  t.core.datasets.materialize = async (versionId, split, file) => {
    materialized.push(`${versionId}:${split}`);
    const rows = split === 'validation' ? [] : [{ messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }] }];
    fs.writeFileSync(file, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
    return { path: file, rows: rows.length };
  };
  const model = await t.call('models.import', { path: FAKE_MODEL });
  const form = { modelId: model.id, datasetId: 'ds1', datasetRevision: 3, method: 'lora' as const, rank: 4, maxSeqLen: 64, threads: 1 };
  return { ...t, fake, model, form, materialized };
}

test('a run is created, queued, trained to the end: run, metrics, checkpoints, logs and events stored', async () => {
  const t = await setup();
  const created = await t.call('runs.create', t.form);
  assert.equal(created.datasetVersion, 'ds1@3');
  assert.match(created.templateHash ?? '', /^[0-9a-f]{64}$/);
  assert.ok(fs.existsSync(path.join(created.runDir, 'data.jsonl')));
  assert.ok(!fs.existsSync(path.join(created.runDir, 'val.jsonl')), 'an empty validation split writes no val.jsonl');
  assert.deepEqual(t.materialized, ['ds1@3:train', 'ds1@3:validation']);
  await t.core.runs.idle();
  const run = await t.call('runs.get', { runId: created.id });
  assert.equal(run.status, 'done');
  assert.equal(run.step, TOTAL);
  assert.equal(run.totalSteps, TOTAL);
  assert.equal(run.lastLoss, lossAt(TOTAL));
  assert.deepEqual(run.checkpoints.map((c) => c.step), [2, 4, 6]);
  assert.equal(run.checkpoints[0].perplexity, Math.exp(lossAt(2) + 0.5));
  assert.ok(run.finishedAt && run.startedAt);
  const metrics = await t.call('runs.metrics', { runId: created.id });
  assert.deepEqual(metrics.map((m) => m.step), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(metrics.map((m) => m.loss), [1, 2, 3, 4, 5, 6].map(lossAt));
  assert.equal(metrics[1].valLoss, lossAt(2) + 0.5, 'the checkpoint\'s validation loss lands on its step');
  assert.equal(metrics[0].valLoss, null);
  assert.deepEqual((await t.call('runs.metrics', { runId: created.id, sinceStep: 4 })).map((m) => m.step), [5, 6]);
  const logs = await t.call('runs.logs', { runId: created.id });
  assert.match(logs[0], /^queued: lora/);
  assert.ok(logs.includes('done after step 6 of 6'), logs.join('\n'));
  // A finished LoRA run's adapter is written at once (compare and GAtt synthesis use it).
  assert.equal(logs.at(-1), `adapter for compare and synthesis: ${path.join(created.runDir, 'adapter-step6.gguf')}`);
  assert.ok(fs.existsSync(t.core.runs.adapterPath(created.id)));
  assert.equal(t.eventsOf('runs.step').length, TOTAL);
  assert.ok(t.eventsOf('runs.step').every((e) => e.runId === created.id && e.totalSteps === TOTAL && e.etaSeconds !== null));
  assert.deepEqual([...new Set(t.eventsOf('runs.status').map((e) => e.run.status))], ['queued', 'running', 'done']);
  // The engine got the resolved config: the materialized rows, the form's fields, all threads given.
  const sent = t.fake.calls[0];
  assert.equal(sent.config.data, path.join(created.runDir, 'data.jsonl'));
  assert.equal(sent.config.rank, 4);
  assert.equal(sent.config.format, 'auto');
  assert.equal(sent.resume, false);
  assert.equal((await t.call('runs.list', {})).length, 1);
});

test('one run on the engine at a time: the second waits in the queue', async () => {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const t = await setup({ gate: (step) => (step === 1 ? held : Promise.resolve()) });
  const a = await t.call('runs.create', t.form);
  const b = await t.call('runs.create', t.form);
  await new Promise((r) => setImmediate(r));
  assert.equal((await t.call('runs.get', { runId: a.id })).status, 'running');
  assert.equal((await t.call('runs.get', { runId: b.id })).status, 'queued');
  release();
  await t.core.runs.idle();
  assert.equal((await t.call('runs.get', { runId: a.id })).status, 'done');
  assert.equal((await t.call('runs.get', { runId: b.id })).status, 'done');
  assert.equal(t.fake.calls.length, 2);
});

test('pause checkpoints and stops; resume continues from that checkpoint to the end; cancel ends a paused run', async () => {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const t = await setup({ gate: (step) => (step === 4 ? held : Promise.resolve()) });
  const run = await t.call('runs.create', t.form);
  while ((await t.call('runs.get', { runId: run.id })).step < 3) await new Promise((r) => setImmediate(r));
  await t.call('runs.pause', { runId: run.id });
  release();
  await t.core.runs.idle();
  const paused = await t.call('runs.get', { runId: run.id });
  assert.equal(paused.status, 'paused');
  assert.ok(paused.step >= 3 && paused.step < TOTAL);
  assert.equal(paused.checkpoints.at(-1)?.step, paused.step, 'the pause checkpointed the step it stopped after');
  await assert.rejects(t.call('runs.pause', { runId: run.id }), /only a queued or running run/);
  await t.call('runs.resume', { runId: run.id });
  await t.core.runs.idle();
  const done = await t.call('runs.get', { runId: run.id });
  assert.equal(done.status, 'done');
  assert.equal(t.fake.calls[1].resume, true);
  assert.deepEqual((await t.call('runs.metrics', { runId: run.id })).map((m) => m.step), [1, 2, 3, 4, 5, 6]);
  await assert.rejects(t.call('runs.cancel', { runId: run.id }), /already done/);

  const other = await setup({ gate: () => new Promise(() => undefined) });
  const queued = await other.call('runs.create', other.form);
  const second = await other.call('runs.create', other.form);
  assert.equal((await other.call('runs.pause', { runId: second.id })).status, 'paused');
  assert.equal((await other.call('runs.cancel', { runId: second.id })).status, 'cancelled');
  void queued;
});

test('the engine dies mid-run: interrupted with the reason; resume redoes the steps after the checkpoint (one curve)', async () => {
  const t = await setup({ crashAfterStep: 3 });
  const run = await t.call('runs.create', t.form);
  await t.core.runs.idle();
  const broken = await t.call('runs.get', { runId: run.id });
  assert.equal(broken.status, 'interrupted');
  assert.match(broken.error ?? '', /killed by SIGKILL.*Resume continues from the last checkpoint/);
  assert.deepEqual((await t.call('runs.metrics', { runId: run.id })).map((m) => m.step), [1, 2, 3]);
  await t.call('runs.resume', { runId: run.id });
  await t.core.runs.idle();
  const done = await t.call('runs.get', { runId: run.id });
  assert.equal(done.status, 'done');
  assert.equal(done.error, null);
  const metrics = await t.call('runs.metrics', { runId: run.id });
  assert.deepEqual(metrics.map((m) => m.step), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(metrics.map((m) => m.loss), [1, 2, 3, 4, 5, 6].map(lossAt));
  assert.ok((await t.call('runs.logs', { runId: run.id })).some((l) => /resuming after step 2 .*1 later step/.test(l)));
  await assert.rejects(t.call('runs.resume', { runId: run.id }), /only a paused or interrupted run/);
});

test('recover(): runs the app left running or queued become interrupted', async () => {
  const t = await setup({ gate: () => new Promise(() => undefined) });
  const a = await t.call('runs.create', t.form);
  const b = await t.call('runs.create', t.form);
  t.core.runs.recover();
  for (const id of [a.id, b.id]) {
    const r = await t.call('runs.get', { runId: id });
    assert.equal(r.status, 'interrupted');
    assert.match(r.error ?? '', /Paddock stopped while this run was in progress/);
  }
});

test('a run beyond the memory limit is refused with concrete suggestions; nothing is stored', async () => {
  const t = await setup();
  const form = { ...t.form, method: 'full' as const, maxSeqLen: 2048 };
  const estimate = await t.call('runs.estimate', form);
  assert.ok(estimate.breakdown.activations > 0 && estimate.breakdown.logits === 2048 * 512 * 4);
  const saved = process.env.PADDOCK_MEMORY_LIMIT_BYTES;
  process.env.PADDOCK_MEMORY_LIMIT_BYTES = String(Math.floor(estimate.total * 0.8));
  try {
    const refused = await t.call('runs.estimate', form);
    assert.equal(refused.fits, false);
    assert.ok(refused.suggestions.length > 0);
    await assert.rejects(t.call('runs.create', form), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'BAD_REQUEST');
      assert.match(err.message, /needs about .* MiB .* but .* is available\. To make it fit: /);
      assert.match(err.message, /activation checkpointing|max sequence length|LoRA adapter/);
      return true;
    });
  } finally {
    if (saved === undefined) delete process.env.PADDOCK_MEMORY_LIMIT_BYTES;
    else process.env.PADDOCK_MEMORY_LIMIT_BYTES = saved;
  }
  assert.deepEqual(await t.call('runs.list', {}), []);
  assert.deepEqual(t.fake.calls, []);
});

test('bad forms are refused before anything is written', async () => {
  const t = await setup();
  await assert.rejects(t.call('runs.create', { ...t.form, modelId: 'nope' }), /No model with id nope/);
  // No revision given: the head of the dataset, which does not exist here.
  await assert.rejects(t.call('runs.create', { ...t.form, datasetRevision: undefined }), (err: Error & { code?: string }) => ['BAD_REQUEST', 'NOT_FOUND'].includes(err.code!) && /ds1/.test(err.message));
  t.core.datasets.materialize = async (v, s, file) => {
    fs.writeFileSync(file, '');
    return { path: file, rows: 0 };
  };
  await assert.rejects(t.call('runs.create', t.form), /the train split has no rows/);
  assert.deepEqual(await t.call('runs.list', {}), []);
});

test('compare: base and tuned replies on one base with the adapter hot-swapped; ratings stored as preference records', async () => {
  const t = await setup();
  const run = await t.call('runs.create', t.form);
  await t.core.runs.idle();
  const out = await t.call('compare.send', { compareId: 'c1', runId: run.id, prompt: 'Tell me a story', systemPrompt: 'Be brief', seed: 5 });
  assert.deepEqual(out, { base: 'base reply', tuned: 'tuned reply' });
  const [base, tuned] = t.engine.requests.slice(-2);
  assert.equal(base.modelPath, tuned.modelPath, 'one base model for both sides');
  assert.equal(base.adapterPath, null);
  assert.equal(tuned.adapterPath, path.join(run.runDir, 'adapter-step6.gguf'));
  assert.equal(t.core.runs.adapterPath(run.id), tuned.adapterPath);
  assert.deepEqual(base.parts, tuned.parts);
  assert.equal(base.settings.seed, 5);
  assert.match(base.prompt, /Be brief[\s\S]*Tell me a story/);
  const tokens = t.eventsOf('compare.token');
  assert.equal(tokens.filter((e) => e.side === 'base').map((e) => e.text).join(''), 'base reply');
  assert.equal(tokens.filter((e) => e.side === 'tuned').map((e) => e.text).join(''), 'tuned reply');

  const { id } = await t.call('compare.rate', { runId: run.id, prompt: 'Tell me a story', chosen: 'tuned reply', rejected: 'base reply', chosenSide: 'tuned', strength: 'significantly' });
  const prefs = await t.call('compare.preferences', { runId: run.id });
  assert.equal(prefs.length, 1);
  assert.deepEqual({ ...prefs[0], createdAt: '' }, { id, runId: run.id, prompt: 'Tell me a story', chosen: 'tuned reply', rejected: 'base reply', chosenSide: 'tuned', strength: 'significantly', createdAt: '' });
  assert.equal((await t.call('compare.preferences', {})).length, 1);
  await assert.rejects(t.call('compare.rate', { runId: 'nope', prompt: 'p', chosen: 'a', rejected: 'b', chosenSide: 'base' }), /No run with id nope/);
});

test('export checks the file against the run and writes an Ollama Modelfile beside a merged GGUF', async () => {
  const t = await setup();
  const run = await t.call('runs.create', t.form);
  await t.core.runs.idle();
  const out = path.join(path.dirname(run.runDir), `${run.id}-merged.gguf`);
  const res = await t.call('runs.export', { runId: run.id, format: 'gguf-merged', path: out });
  assert.equal(res.path, out);
  assert.equal(res.smokeChat, 'Once upon a time');
  assert.ok(res.modelfile && fs.readFileSync(res.modelfile, 'utf8').includes(`FROM ./${path.basename(out)}`));
  assert.match(fs.readFileSync(res.modelfile!, 'utf8'), /TEMPLATE """.*<\|im_start\|>/s);
  // The run's special tokens differ from what the file says: refused, and the file is removed.
  t.core.db.prepare('UPDATE runs SET special_tokens_json = ? WHERE id = ?').run(JSON.stringify({ bosId: 1, eosId: 7, eotId: -1 }), run.id);
  const refused = path.join(path.dirname(run.runDir), `${run.id}-refused.gguf`);
  await assert.rejects(t.call('runs.export', { runId: run.id, format: 'gguf-lora', path: refused }), /Export refused: the exported file's special tokens \(BOS 1, EOS 2, EOT -1\) differ from the run's \(BOS 1, EOS 7/);
  assert.ok(!fs.existsSync(refused));
});

test('delete removes the run and its folder; a running run must be cancelled first', async () => {
  const t = await setup({ gate: () => new Promise(() => undefined) });
  const run = await t.call('runs.create', t.form);
  await new Promise((r) => setImmediate(r));
  await assert.rejects(t.call('runs.delete', { runId: run.id }), /cancel it first/);
  const queued = await t.call('runs.create', t.form);
  await t.call('runs.delete', { runId: queued.id });
  assert.ok(!fs.existsSync(queued.runDir));
  await assert.rejects(t.call('runs.get', { runId: queued.id }), /No run with id/);
});
