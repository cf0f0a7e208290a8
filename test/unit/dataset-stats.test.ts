// Dataset statistics on a small hand-made dataset: histograms computed by hand, per split.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bucketEdges, datasetStats, niceWidth, type RowForStats } from '../../electron/core/datasets/dataset-stats';
import type { DatasetMessage } from '../../electron/core/datasets/validation-types';

const m = (role: DatasetMessage['role']): DatasetMessage => ({ role, content: 'x', train: true });
/** A row of `turns` alternating user/assistant messages (after an optional system message). */
const chat = (turns: number, split: RowForStats['split'], tokens: number | null, system = false): RowForStats => ({
  messages: [...(system ? [m('system')] : []), ...Array.from({ length: turns }, (_, i) => m(i % 2 ? 'assistant' : 'user'))],
  split,
  tokens,
});

test('nice bucket widths and edges: round numbers, the maximum inside the last bucket', () => {
  assert.deepEqual([0.3, 1, 1.5, 3, 7, 10, 11, 203, 4999].map(niceWidth), [1, 1, 2, 5, 10, 10, 20, 500, 5000]);
  assert.deepEqual(bucketEdges(2, 12), [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
  assert.deepEqual(bucketEdges(37, 4100), [0, 500, 1000, 1500, 2000, 2500, 3000, 3500, 4000, 4500]);
  assert.deepEqual(bucketEdges(5, 5), [5, 6]);
  const e = bucketEdges(0, 100_000);
  assert.ok(e.length - 1 <= 21 && e[e.length - 1] > 100_000 && e[0] === 0);
});

test('datasetStats: turns and token-length histograms, role mix and total tokens per split', () => {
  const rows: RowForStats[] = [
    chat(2, 'train', 10, true),
    chat(2, 'train', 25),
    chat(4, 'train', 31),
    chat(6, 'validation', 55, true),
    chat(2, 'test', 12),
    chat(3, null, 45),
    chat(2, null, null), // edited since validation: no count
  ];
  const st = datasetStats(rows);
  assert.equal(st.rows, 7);
  // Turns 2..6 (non-system messages): width 1 from 2 -> edges 2..7.
  assert.deepEqual(st.turns.edges, [2, 3, 4, 5, 6, 7]);
  assert.deepEqual(st.turns.counts, {
    train: [2, 0, 1, 0, 0],
    validation: [0, 0, 0, 0, 1],
    test: [1, 0, 0, 0, 0],
    none: [1, 1, 0, 0, 0],
  });
  // Tokens 10..55: (55 - 10 + 1) / 20 = 2.3 -> width 5 from 10 -> edges 10, 15, ..., 60.
  assert.deepEqual(st.tokenLengths?.edges, [10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60]);
  assert.deepEqual(st.tokenLengths?.counts, {
    train: [1, 0, 0, 1, 1, 0, 0, 0, 0, 0],
    validation: [0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
    test: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    none: [0, 0, 0, 0, 0, 0, 0, 1, 0, 0],
  });
  assert.equal(st.totalTokens, 10 + 25 + 31 + 55 + 12 + 45);
  assert.deepEqual(st.roleMix, {
    train: { system: 1, user: 4, assistant: 4 },
    validation: { system: 1, user: 3, assistant: 3 },
    test: { system: 0, user: 1, assistant: 1 },
    none: { system: 0, user: 3, assistant: 2 },
  });
  // Every row is in exactly one turns bucket, and every counted row in one token bucket.
  const sum = (h: { counts: Record<string, number[]> }) => Object.values(h.counts).flat().reduce((x, y) => x + y, 0);
  assert.equal(sum(st.turns), 7);
  assert.equal(sum(st.tokenLengths!), 6);
});

test('datasetStats before any token count, and on an empty dataset', () => {
  const st = datasetStats([chat(2, null, null)]);
  assert.equal(st.tokenLengths, null);
  assert.equal(st.totalTokens, null);
  assert.deepEqual(st.turns, { edges: [2, 3], counts: { train: [0], validation: [0], test: [0], none: [1] } });
  const empty = datasetStats([]);
  assert.equal(empty.rows, 0);
  assert.deepEqual(empty.turns, { edges: [0, 1], counts: { train: [0], validation: [0], test: [0], none: [0] } });
  assert.deepEqual(empty.roleMix.none, { system: 0, user: 0, assistant: 0 });
});
