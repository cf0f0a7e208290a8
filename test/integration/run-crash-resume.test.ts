// Runs on the real parts (test/support/runs-core.ts): PaddockCore with a real SQLite file, the
// real engine process (the native addon) training the bundled stories260K on a small dataset. (1) A run beyond the (overridden) memory limit is refused with a suggestion and nothing
// crashes. (2) kill -9 of the engine mid-run: the run shows interrupted, one resume continues it,
// and its metrics (loss, lr, grad norm, validation loss) equal an uninterrupted run's step for
// step. Tolerance: 1e-9 relative. The trainer is bitwise reproducible for a fixed thread count
// and a resume restores parameters, moments, step and data order, so the values are in fact equal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StepMetric } from '../../electron/shared/contract-runs';
import { startRunsCore as startCore } from '../support/runs-core';
import { waitFor } from '../support/server';
import { noTestdata } from '../support/testdata';

const form = (modelId: string, datasetId: string) => ({
  modelId, datasetId, method: 'lora' as const, rank: 4, steps: 12, saveEvery: 4, evalEvery: 2, batch: 2, maxSeqLen: 96,
  lr: 5e-3, schedule: 'cosine' as const, warmup: 2, seed: 7, threads: 2,
});

/** `pausedAt`: the step a pause checkpointed, whose validation loss the uninterrupted run did not measure. */
function assertSameCurve(got: StepMetric[], want: StepMetric[], pausedAt?: number) {
  assert.deepEqual(got.map((m) => m.step), want.map((m) => m.step));
  const close = (a: number | null, b: number | null, what: string, step: number) => {
    if (a === null || b === null) return assert.equal(a, b, `${what} at step ${step}`);
    assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what} at step ${step}: ${a} vs ${b}`);
  };
  for (let i = 0; i < want.length; i++) {
    close(got[i].loss, want[i].loss, 'loss', want[i].step);
    close(got[i].lr, want[i].lr, 'lr', want[i].step);
    close(got[i].gradNorm, want[i].gradNorm, 'grad norm', want[i].step);
    if (want[i].step !== pausedAt) close(got[i].valLoss, want[i].valLoss, 'validation loss', want[i].step);
  }
}

test('a run beyond the memory limit is refused with a suggestion; the engine is untouched and a fitting run then trains', { skip: noTestdata, timeout: 60_000 }, async () => {
  const t = await startCore();
  try {
    const big = { ...form(t.model.id, t.datasetId), maxSeqLen: 4096, steps: 3 };
    const need = (await t.call('runs.estimate', big)).total;
    process.env.PADDOCK_MEMORY_LIMIT_BYTES = String(Math.floor(need * 0.7));
    try {
      await assert.rejects(t.call('runs.create', big), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'BAD_REQUEST');
        assert.match(err.message, /To make it fit: .*(activation checkpointing|max sequence length)/);
        return true;
      });
      const fixed = (await t.call('runs.estimate', big)).suggestions[0];
      const run = await t.call('runs.create', { ...big, ...fixed.patch });
      await t.core.runs.idle();
      const done = await t.call('runs.get', { runId: run.id });
      assert.equal(done.status, 'done', done.error ?? '');
      assert.equal(done.step, 3);
    } finally {
      delete process.env.PADDOCK_MEMORY_LIMIT_BYTES;
    }
    assert.equal((await t.call('runs.list', {})).length, 1, 'the refused run left nothing behind');
  } finally {
    await t.core.close();
  }
});

test('kill -9 of the engine mid-run: interrupted, one resume, and the same curve as an uninterrupted run', { skip: noTestdata, timeout: 90_000 }, async () => {
  const t = await startCore({ PADDOCK_ENGINE_STEP_DELAY_MS: '150' });
  try {
    const reference = await t.call('runs.create', { ...form(t.model.id, t.datasetId), name: 'uninterrupted' });
    await t.core.runs.idle();
    const ref = await t.call('runs.get', { runId: reference.id });
    assert.equal(ref.status, 'done', ref.error ?? '');
    const want = await t.call('runs.metrics', { runId: reference.id });
    assert.equal(want.length, 12);
    assert.ok(want.filter((m) => m.valLoss !== null).length === 6, 'validation loss every 2 steps');
    assert.deepEqual(ref.checkpoints.map((c) => c.step), [4, 8, 12]);
    assert.ok(ref.checkpoints.every((c) => c.valLoss !== null && Math.abs(c.perplexity! - Math.exp(c.valLoss)) < 1e-9));

    const run = await t.call('runs.create', { ...form(t.model.id, t.datasetId), name: 'killed' });
    // Past the checkpoint at step 4, before the one at 8: steps 5.. are redone after the resume.
    await waitFor(async () => (await t.call('runs.get', { runId: run.id })).step >= 6 || undefined, 'step 6', 30_000);
    const pid = t.engine.pid!;
    process.kill(pid, 'SIGKILL');
    await t.core.runs.idle();
    const killed = await t.call('runs.get', { runId: run.id });
    assert.equal(killed.status, 'interrupted');
    assert.match(killed.error ?? '', /killed by SIGKILL/);
    assert.ok(killed.step >= 6 && killed.step < 12, `killed at step ${killed.step}`);
    assert.equal(killed.checkpoints.at(-1)?.step, 4);

    await t.call('runs.resume', { runId: run.id });
    await t.core.runs.idle();
    const resumed = await t.call('runs.get', { runId: run.id });
    assert.equal(resumed.status, 'done', resumed.error ?? '');
    assert.notEqual(t.engine.pid, pid, 'a fresh engine process');
    assertSameCurve(await t.call('runs.metrics', { runId: run.id }), want);
    assert.deepEqual(resumed.checkpoints.map((c) => c.step), [4, 8, 12]);
    assert.ok((await t.call('runs.logs', { runId: run.id })).some((l) => /resuming after step 4/.test(l)));

    // Pause: the engine checkpoints the step it stopped after; resume continues the same curve.
    const paused = await t.call('runs.create', { ...form(t.model.id, t.datasetId), name: 'paused' });
    assert.equal(paused.datasetVersion, `${t.datasetId}@1`, 'the head revision is pinned');
    await waitFor(async () => (await t.call('runs.get', { runId: paused.id })).step >= 2 || undefined, 'step 2', 30_000);
    await t.call('runs.pause', { runId: paused.id });
    await t.core.runs.idle();
    const held = await t.call('runs.get', { runId: paused.id });
    assert.equal(held.status, 'paused');
    assert.ok(held.step < 12);
    assert.equal(held.checkpoints.at(-1)?.step, held.step, 'a checkpoint of the step the pause stopped after');
    await t.call('runs.resume', { runId: paused.id });
    await t.core.runs.idle();
    assert.equal((await t.call('runs.get', { runId: paused.id })).status, 'done');
    assertSameCurve(await t.call('runs.metrics', { runId: paused.id }), want, held.step);
  } finally {
    await t.core.close();
  }
});
