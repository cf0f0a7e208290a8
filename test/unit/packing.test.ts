// Packing tokenized samples into trainer rows (native TrainRow): the n-1 positions of a sample,
// targets shifted by one, weights of the targets, positions restarting per sample, segments
// numbering the samples of a row; whole samples only, over-long ones cut and counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { packSamples, type PackedRow, type TokenizedSample } from '../../electron/core/training/packing';

const plain = (r: PackedRow) => ({
  tokens: Array.from(r.tokens),
  targets: Array.from(r.targets),
  weights: Array.from(r.weights),
  positions: Array.from(r.positions),
  segments: Array.from(r.segments),
});

const a: TokenizedSample = { tokens: [1, 10, 11, 12, 2], weights: [0, 0, 1, 1, 1] };
const b: TokenizedSample = { tokens: [1, 20, 21], weights: [0, 1, 1] };
const c: TokenizedSample = { tokens: [1, 30, 31, 32], weights: [0, 0, 0, 1] };

test('one row per sample without packing: inputs tokens[0..n-1), targets tokens[1..n), weights w[1..n)', () => {
  const { rows, truncated, skipped } = packSamples([a, b], 16, { pack: false });
  assert.equal(truncated, 0);
  assert.equal(skipped, 0);
  assert.deepEqual(rows.map(plain), [
    { tokens: [1, 10, 11, 12], targets: [10, 11, 12, 2], weights: [0, 1, 1, 1], positions: [0, 1, 2, 3], segments: [0, 0, 0, 0] },
    { tokens: [1, 20], targets: [20, 21], weights: [1, 1], positions: [0, 1], segments: [0, 0] },
  ]);
  assert.ok(rows[0].tokens instanceof Int32Array && rows[0].weights instanceof Float32Array);
});

test('packing lays whole samples end to end, positions restart and segments count the samples of each row', () => {
  // a: 4 positions, b: 2, c: 3. Max 6: [a b] then [c] (c does not fit after a+b and is never split).
  const { rows, truncated } = packSamples([a, b, c], 6, { pack: true });
  assert.equal(truncated, 0);
  assert.deepEqual(rows.map(plain), [
    {
      tokens: [1, 10, 11, 12, 1, 20],
      targets: [10, 11, 12, 2, 20, 21],
      weights: [0, 1, 1, 1, 1, 1],
      positions: [0, 1, 2, 3, 0, 1],
      segments: [0, 0, 0, 0, 1, 1],
    },
    { tokens: [1, 30, 31], targets: [30, 31, 32], weights: [0, 0, 1], positions: [0, 1, 2], segments: [0, 0, 0] },
  ]);
  // The same samples with room for all: one row, three segments, nothing lost.
  const one = packSamples([a, b, c], 9, { pack: true }).rows;
  assert.equal(one.length, 1);
  assert.deepEqual(Array.from(one[0].segments), [0, 0, 0, 0, 1, 1, 2, 2, 2]);
  assert.equal(one[0].tokens.length, 9);
});

test('a sample longer than maxSeqLen is cut to its first maxSeqLen positions and counted; 1-token samples are skipped and counted', () => {
  const { rows, truncated, skipped } = packSamples([a, { tokens: [1], weights: [0] }, b], 3, { pack: true });
  assert.equal(truncated, 1);
  assert.equal(skipped, 1);
  assert.deepEqual(rows.map(plain), [
    { tokens: [1, 10, 11], targets: [10, 11, 12], weights: [0, 1, 1], positions: [0, 1, 2], segments: [0, 0, 0] },
    { tokens: [1, 20], targets: [20, 21], weights: [1, 1], positions: [0, 1], segments: [0, 0] },
  ]);
});

test('every trained target of every sample lands in exactly one row, in order (random samples)', () => {
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const samples: TokenizedSample[] = Array.from({ length: 200 }, () => {
    const n = 2 + rand(40);
    return { tokens: Array.from({ length: n }, () => rand(500)), weights: Array.from({ length: n }, (_, i) => (i > 0 && rand(2) ? 1 : 0)) };
  });
  for (const pack of [true, false]) {
    const { rows, truncated } = packSamples(samples, 41, { pack });
    assert.equal(truncated, 0);
    const got = rows.flatMap((r) => Array.from(r.targets, (t, i) => [r.tokens[i], t, r.weights[i], r.positions[i]]));
    const want = samples.flatMap((s) => s.tokens.slice(1).map((t, i) => [s.tokens[i], t, s.weights[i + 1], i]));
    assert.deepEqual(got, want);
    for (const r of rows) {
      assert.ok(r.tokens.length <= 41);
      for (let i = 1; i < r.segments.length; i++) assert.ok(r.segments[i] - r.segments[i - 1] === (r.positions[i] === 0 ? 1 : 0));
    }
    if (!pack) assert.equal(rows.length, samples.length);
    // Greedy fill: a new row starts only when the next sample would not fit in the previous one.
    else
      for (let i = 1; i < rows.length; i++) {
        const firstLen = rows[i].segments.findIndex((sg) => sg !== 0);
        assert.ok(rows[i - 1].tokens.length + (firstLen < 0 ? rows[i].tokens.length : firstLen) > 41, `row ${i - 1} had room`);
      }
  }
});

test('mismatched tokens/weights and a bad maxSeqLen are refused', () => {
  assert.throws(() => packSamples([{ tokens: [1, 2], weights: [0] }], 8, { pack: true }), /2 tokens but 1 weights/);
  assert.throws(() => packSamples([a], 0, { pack: true }), /maxSeqLen/);
});
