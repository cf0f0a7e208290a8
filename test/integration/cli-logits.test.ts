// The CLI contract of `logits`: stdout is exactly one JSON line {"tokens","logits"}, tokens are BOS
// + the prompt's tokens (as `tokenize` gives them), logits are the last position's over the whole
// vocabulary — checked against a float64 PyTorch forward of stories260K (test data golden).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { cliEntry } from '../support/server';
import { bundledGguf, noTestdata, testdataDir } from '../support/testdata';

const cli = (args: string[], input?: string) => spawnSync(process.execPath, [cliEntry, ...args], { encoding: 'utf8', input, maxBuffer: 1 << 28 });

/** A tensor of the golden safetensors file (little-endian, as written). */
function goldenTensor(name: string): { shape: number[]; data: Buffer; dtype: string } {
  const f = fs.readFileSync(path.join(testdataDir, 'goldens/stories260K-train.safetensors'));
  const n = Number(f.readBigUInt64LE(0));
  const e = JSON.parse(f.subarray(8, 8 + n).toString())[name] as { dtype: string; shape: number[]; data_offsets: [number, number] };
  return { shape: e.shape, dtype: e.dtype, data: Buffer.from(f.subarray(8 + n + e.data_offsets[0], 8 + n + e.data_offsets[1])) };
}

function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

// The golden's text (SOURCES.md): its tokens are BOS + tok512's encoding of it.
const GOLDEN_TEXT =
  'Once upon a time, there was a big dog named Max. Max liked to eat red apples. One day, he saw a little cat up in the tall tree and said hello.';

test('logits: one JSON line, BOS + the tokenize ids, the last position equal to a float64 reference', { skip: noTestdata }, () => {
  const r = cli(['logits', '--model', bundledGguf, '--prompt', GOLDEN_TEXT]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.equal(lines.length, 2, 'exactly one line on stdout');
  assert.equal(lines[1], '');
  const out = JSON.parse(lines[0]) as { tokens: number[]; logits: number[] };
  assert.deepEqual(Object.keys(out), ['tokens', 'logits']);

  const tok = cli(['tokenize', '--model', bundledGguf], `${JSON.stringify(GOLDEN_TEXT)}\n`);
  assert.equal(tok.status, 0, tok.stderr);
  assert.deepEqual(out.tokens, [1, ...(JSON.parse(tok.stdout) as number[])]);

  const gt = goldenTensor('tokens');
  assert.equal(gt.dtype, 'I32');
  assert.deepEqual(out.tokens, Array.from(new Int32Array(gt.data.buffer, gt.data.byteOffset, gt.shape[0])));
  const gl = goldenTensor('logits');
  const [positions, vocab] = gl.shape;
  const want = new Float64Array(gl.data.buffer, gl.data.byteOffset, positions * vocab).subarray((positions - 1) * vocab);
  assert.equal(out.logits.length, vocab);
  let maxDiff = 0;
  for (let i = 0; i < vocab; i++) maxDiff = Math.max(maxDiff, Math.abs(out.logits[i] - want[i]));
  // The default F16 KV cache rounds keys and values: ~2e-2 over all positions, far below a wrong forward.
  assert.ok(maxDiff < 5e-2, `max |logit - float64 reference| = ${maxDiff}`);
  assert.equal(argmax(out.logits), argmax(want));
});

test('logits: an empty prompt is BOS alone; errors go to stderr with a non-zero exit and nothing on stdout', () => {
  const bos = cli(['logits', '--model', bundledGguf, '--prompt', '']);
  assert.equal(bos.status, 0, bos.stderr);
  const out = JSON.parse(bos.stdout) as { tokens: number[]; logits: number[] };
  assert.deepEqual(out.tokens, [1]);
  assert.equal(out.logits.length, 512);
  assert.ok(out.logits.every(Number.isFinite));

  const noPrompt = cli(['logits', '--model', bundledGguf]);
  assert.equal(noPrompt.status, 2);
  assert.equal(noPrompt.stdout, '');
  assert.match(noPrompt.stderr, /--prompt/);

  const missing = cli(['logits', '--model', '/nonexistent/model.gguf', '--prompt', 'x']);
  assert.notEqual(missing.status, 0);
  assert.equal(missing.stdout, '');
  assert.match(missing.stderr, /\/nonexistent\/model\.gguf/);
});
