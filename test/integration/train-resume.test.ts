// Kill -9 mid-run, then `train --resume`: every step after the last checkpoint reproduces the
// uninterrupted run's loss, lr and grad norm bitwise (same thread count: the engine's reductions
// are statically partitioned), because the checkpoint holds the adapter, AdamW moments, step,
// and the loop's shuffle generator and data cursor. LoRA dropout and batches that cross epoch
// boundaries are on, so the RNG state and cursor both matter. Ctrl-C checkpoints the step it
// stops after; the engine loop's pause holds it between steps without changing the run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadAddon } from '../../electron/engine/addon';
import { makeRunConfig } from '../../electron/core/training/run-config';
import { RunDir } from '../../electron/engine/train/run-dir';
import { TrainingRun } from '../../electron/engine/train/training-run';
import { bundledGguf, noTestdata, repoRoot, testdataDir } from '../support/testdata';

const cliSource = path.join(repoRoot, 'electron/cli/main.ts');
const cliArgs = (args: string[]) => ['--import', 'tsx', cliSource, ...args];
const cli = (args: string[]) => spawnSync(process.execPath, cliArgs(args), { encoding: 'utf8', cwd: repoRoot, timeout: 180_000 });

const steps = 16;
const saveEvery = 5;

function trainArgs(data: string, out: string): string[] {
  // 12 samples packed into a few rows, 3 rows per step: epochs end mid-batch.
  return ['train', '--model', bundledGguf, '--data', data, '--method', 'lora', '--rank', '4', '--dropout', '0.1', '--lr', '5e-3',
    '--schedule', 'cosine', '--warmup', '3', '--batch', '3', '--max-seq-len', '128', '--steps', String(steps), '--save-every', String(saveEvery),
    '--seed', '7', '--threads', '2', '--out', out];
}

const lines = (stdout: string) => stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { step: number; loss: number; lr: number; grad_norm: number });

/** Spawns a run and sends `signal` once it has printed step `killAfter` (after a checkpoint, for SIGKILL). */
function runAndKill(args: string[], killAfter: number, sig: NodeJS.Signals = 'SIGKILL'): Promise<{ printed: number; signal: NodeJS.Signals | null; code: number | null }> {
  return new Promise((resolve, reject) => {
    // The delay keeps the tiny model from finishing before the kill lands.
    const child = spawn(process.execPath, cliArgs(args), { cwd: repoRoot, env: { ...process.env, PADDOCK_TRAIN_STEP_DELAY_MS: '300' } });
    let out = '';
    let printed = 0;
    child.stdout.on('data', (d) => {
      out += d;
      printed = out.split('\n').filter(Boolean).length;
      if (printed >= killAfter && !child.killed) child.kill(sig);
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ printed, signal, code }));
  });
}

type Line = ReturnType<typeof lines>[number];
let reference: { dir: string; data: string; expected: Line[] } | undefined;

/** The data and the uninterrupted run's step lines, made once for both tests. */
function uninterrupted() {
  if (reference) return reference;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-resume-'));
  const rows = (JSON.parse(fs.readFileSync(path.join(testdataDir, 'datasets/alpaca/alpaca_5000.json'), 'utf8')) as unknown[]).slice(100, 112);
  const data = path.join(dir, 'alpaca12.json');
  fs.writeFileSync(data, JSON.stringify(rows));
  const whole = cli(trainArgs(data, path.join(dir, 'whole')));
  assert.equal(whole.status, 0, whole.stderr);
  const expected = lines(whole.stdout);
  assert.equal(expected.length, steps);
  return (reference = { dir, data, expected });
}

function assertSameSteps(after: Line[], expected: Line[]) {
  assert.equal(after[after.length - 1].step, steps);
  for (const s of after) {
    const e = expected[s.step - 1];
    assert.equal(s.loss, e.loss, `step ${s.step} loss`);
    assert.equal(s.lr, e.lr, `step ${s.step} lr`);
    assert.equal(s.grad_norm, e.grad_norm, `step ${s.step} grad_norm`);
  }
}

test('kill -9 mid-run, then --resume: every later step equals the uninterrupted run bitwise', { skip: noTestdata, timeout: 240_000 }, async () => {
  const { dir, data, expected } = uninterrupted();

  const killed = path.join(dir, 'killed');
  const { printed, signal } = await runAndKill(trainArgs(data, killed), saveEvery + 2);
  assert.equal(signal, 'SIGKILL');
  assert.ok(printed < steps, `killed before the end (printed ${printed} steps)`);

  const resumed = cli(['train', '--out', killed, '--resume']);
  assert.equal(resumed.status, 0, resumed.stderr);
  const after = lines(resumed.stdout);
  assert.ok(after.length > 0 && after[0].step > saveEvery && after[0].step <= printed + 1, `resumed from a checkpoint at or after step ${saveEvery}: first step ${after[0]?.step}`);
  assertSameSteps(after, expected);
  // metrics.jsonl: the steps the killed run did after its checkpoint were dropped, so each step appears once.
  const metrics = fs.readFileSync(path.join(killed, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; loss: number });
  assert.deepEqual(metrics.map((m) => m.step), expected.map((e) => e.step));
  assert.deepEqual(metrics.map((m) => m.loss), expected.map((e) => e.loss));

  // --resume may raise --steps (and continues); it may not change the run's settings.
  const more = cli(['train', '--out', killed, '--resume', '--steps', String(steps + 2)]);
  assert.equal(more.status, 0, more.stderr);
  assert.deepEqual(lines(more.stdout).map((l) => l.step), [steps + 1, steps + 2]);
  const changed = cli(['train', '--out', killed, '--resume', '--lr', '1']);
  assert.equal(changed.status, 2);
  assert.match(changed.stderr, /lr/);
});

test('Ctrl-C stops between steps with a checkpoint of that step (exit 130); --resume continues bitwise', { skip: noTestdata, timeout: 240_000 }, async () => {
  const { dir, data, expected } = uninterrupted();
  const stopped = path.join(dir, 'stopped');
  // Step 2 is no save-every boundary: the checkpoint is the cancel's own.
  const { printed, code } = await runAndKill(trainArgs(data, stopped), 2, 'SIGINT');
  assert.equal(code, 130);
  assert.ok(printed >= 2 && printed < steps);
  const resumed = cli(['train', '--out', stopped, '--resume']);
  assert.equal(resumed.status, 0, resumed.stderr);
  const after = lines(resumed.stdout);
  assert.equal(after[0].step, printed + 1, 'resumes right after the last step the stopped run printed');
  assertSameSteps(after, expected);
});

test('the engine loop: pause holds it between steps, unpause goes on, and the losses are the uninterrupted run\'s', { skip: noTestdata, timeout: 240_000 }, async () => {
  const { dir, data, expected } = uninterrupted();
  const config = makeRunConfig({
    model: bundledGguf, data, method: 'lora', rank: 4, dropout: 0.1, lr: 5e-3, schedule: 'cosine', warmup: 3, batch: 3,
    maxSeqLen: 128, steps, saveEvery, seed: 7, threads: 2,
  });
  const seen: number[] = [];
  let losses: number[] = [];
  let heldAt = -1;
  let stepsWhilePaused = -1;
  const run: TrainingRun = new TrainingRun(loadAddon(), new RunDir(path.join(dir, 'in-process')), config, false, {
    onStep: (m) => {
      seen.push(m.step);
      losses = [...losses, m.loss];
      if (m.step === 3) {
        run.pause();
        heldAt = m.step;
        setTimeout(() => {
          stepsWhilePaused = seen.length;
          run.unpause();
        }, 400);
      }
    },
  });
  const outcome = await run.run();
  assert.equal(heldAt, 3);
  assert.equal(stepsWhilePaused, 3, 'no step ran during the 400 ms pause');
  assert.deepEqual(outcome, { status: 'done', steps, totalSteps: steps });
  assert.deepEqual(losses, expected.map((e) => e.loss));
});
