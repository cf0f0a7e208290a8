// `paddock train` end to end on stories260K (the real tiny Llama): stdout holds only one JSON line
// per optimizer step; full fine-tuning on a short text lowers the loss steadily; LoRA on 50 Alpaca
// rows with the prompt masked overfits (loss < 10% of its start within 120 steps); bad inputs fail
// with messages naming the file. The CLI runs from source (tsx), so the test sees this tree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundledGguf, noTestdata, repoRoot, testdataDir } from '../support/testdata';

const cliSource = path.join(repoRoot, 'electron/cli/main.ts');
const cli = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', cliSource, ...args], { encoding: 'utf8', cwd: repoRoot, timeout: 300_000 });
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-train-'));

interface StepLine {
  step: number;
  loss: number;
  lr: number;
  grad_norm: number;
  tokens_per_s: number;
}

/** Every stdout line must be a step line with exactly the contract's five keys, steps 1, 2, ... */
function stepLines(stdout: string): StepLine[] {
  const lines = stdout.split('\n').filter((l) => l !== '');
  const parsed = lines.map((l) => JSON.parse(l) as StepLine);
  parsed.forEach((p, i) => {
    assert.deepEqual(Object.keys(p).sort(), ['grad_norm', 'loss', 'lr', 'step', 'tokens_per_s']);
    assert.equal(p.step, i + 1);
    for (const v of Object.values(p)) assert.ok(Number.isFinite(v), `finite numbers only: ${lines[i]}`);
  });
  return parsed;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

test('full fine-tuning of stories260K on a short text lowers the loss steadily', { skip: noTestdata }, () => {
  const dir = tmp();
  // A short story the model has not seen: one packed row, every token trained.
  const text =
    'Tom had a small blue boat. Every morning he took the boat to the pond behind the old mill. The ducks swam next to him and quacked. ' +
    'One day the wind pushed the boat far away, and Tom ran around the pond to catch it. His sister Mia laughed and helped him pull it back with a long stick.\n';
  fs.writeFileSync(path.join(dir, 'story.txt'), text);
  // lr 1e-3: measured here the loss falls every step (1.89 -> 0.05 in 20); 3e-3 overshoots at step 2.
  const r = cli(['train', '--model', bundledGguf, '--data', path.join(dir, 'story.txt'), '--method', 'full', '--steps', '20', '--lr', '1e-3', '--threads', '2', '--out', path.join(dir, 'run')]);
  assert.equal(r.status, 0, r.stderr);
  const steps = stepLines(r.stdout);
  assert.equal(steps.length, 20);
  const losses = steps.map((s) => s.loss);
  // A clear drop: the last three steps average under half the first step's loss ...
  assert.ok(mean(losses.slice(-3)) < 0.5 * losses[0], `losses: ${losses.map((l) => l.toFixed(3)).join(' ')}`);
  // ... and steadily: at most two steps above their predecessor.
  const rises = losses.filter((l, i) => i > 0 && l > losses[i - 1]).length;
  assert.ok(rises <= 2, `${rises} rising steps in ${losses.map((l) => l.toFixed(3)).join(' ')}`);
  // The constant schedule by default (the lr is the engine's float32 value).
  assert.ok(steps.every((s) => Math.abs(s.lr - 1e-3) < 1e-9), 'constant schedule by default');
  // The run directory: its config, a checkpoint and one metrics line per step.
  const run = path.join(dir, 'run');
  assert.equal(JSON.parse(fs.readFileSync(path.join(run, 'run.json'), 'utf8')).method, 'full');
  assert.ok(fs.statSync(path.join(run, 'checkpoint.safetensors')).size > 0);
  assert.equal(fs.readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').length, 20);
});

// 50 Alpaca rows as chats (ChatML text template, stories260K has none): only the replies train.
// Rank 32 on every target, lr 1e-2 (2e-2 diverges), cosine after 3 warmup steps, 4 packed rows
// per step (of 29): measured here (2 threads, deterministic) the loss first falls below 10% of
// its start at step 90 and the last five steps average 8%; the test asks for < 10% by step 120.
// About a minute of CPU on this 2-core machine.
test('LoRA on 50 Alpaca rows with prompts masked overfits: loss < 10% of its start within 120 steps', { skip: noTestdata, timeout: 300_000 }, () => {
  const dir = tmp();
  const rows = (JSON.parse(fs.readFileSync(path.join(testdataDir, 'datasets/alpaca/alpaca_5000.json'), 'utf8')) as unknown[]).slice(0, 50);
  const data = path.join(dir, 'alpaca50.json');
  fs.writeFileSync(data, JSON.stringify(rows));
  const r = cli(['train', '--model', bundledGguf, '--data', data, '--method', 'lora', '--rank', '32', '--lr', '1e-2', '--schedule', 'cosine', '--warmup', '3',
    '--steps', '120', '--batch', '4', '--mask', 'all', '--threads', '2', '--out', path.join(dir, 'run')]);
  assert.equal(r.status, 0, r.stderr);
  const losses = stepLines(r.stdout).map((s) => s.loss);
  const first = losses[0];
  assert.ok(first > 3, `an untrained start (${first})`);
  assert.ok(mean(losses.slice(-5)) < 0.1 * first, `the last steps' loss is not below 10% of ${first.toFixed(3)}: ${losses.map((l) => l.toFixed(2)).join(' ')}`);
});

test('bad inputs: a missing data file, unparseable lines (quarantined with a warning), a missing model', { skip: noTestdata }, () => {
  const dir = tmp();
  const missing = cli(['train', '--model', bundledGguf, '--data', path.join(dir, 'nope.jsonl'), '--method', 'lora', '--out', path.join(dir, 'a')]);
  assert.notEqual(missing.status, 0);
  assert.equal(missing.stdout, '');
  assert.match(missing.stderr, /nope\.jsonl/);

  const data = path.join(dir, 'mixed.jsonl');
  const good = JSON.stringify({ instruction: 'Say hi.', input: '', output: 'Hi there, little friend!' });
  fs.writeFileSync(data, `${good}\n{"instruction": "broken\n${good}\n`);
  const mixed = cli(['train', '--model', bundledGguf, '--data', data, '--method', 'lora', '--steps', '2', '--threads', '1', '--out', path.join(dir, 'b')]);
  assert.equal(mixed.status, 0, mixed.stderr);
  assert.equal(stepLines(mixed.stdout).length, 2);
  assert.match(mixed.stderr, /mixed\.jsonl:2: quarantined/);

  const noModel = cli(['train', '--model', path.join(dir, 'absent.gguf'), '--data', data, '--method', 'full', '--out', path.join(dir, 'c')]);
  assert.notEqual(noModel.status, 0);
  assert.equal(noModel.stdout, '');
  assert.match(noModel.stderr, /absent\.gguf/);

  const again = cli(['train', '--model', bundledGguf, '--data', data, '--method', 'lora', '--steps', '2', '--out', path.join(dir, 'b')]);
  assert.equal(again.status, 2, 'a directory holding a run is not overwritten');
  assert.match(again.stderr, /--resume/);
});

// The bench's synthetic Llama-2-7B (test/bench/models, written by `npm run bench`): full fine-tuning
// needs ~100 GiB of F32 weights, gradients and moments, refused before anything is allocated.
const big = path.join(repoRoot, 'test/bench/models/llama-2-7b-q4_0.gguf');
test('a model too large to fine-tune in memory is refused with a message naming it', { skip: fs.existsSync(big) ? undefined : `${big} not written yet (npm run bench writes it)` }, () => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, 't.txt'), 'A short text.\n');
  const r = cli(['train', '--model', big, '--data', path.join(dir, 't.txt'), '--method', 'full', '--out', path.join(dir, 'run')]);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /OUT_OF_MEMORY: .*llama-2-7b-q4_0\.gguf: too large to fully fine-tune/);
  assert.ok(!fs.existsSync(path.join(dir, 'run', 'run.json')), 'no run directory for a run that never started');
});
