// Statistics for the charts: token-length and turns histograms and the role mix, per split.
//
// Buckets: at most about 20 equal-width buckets of a "nice" width (1, 2 or 5 x 10^k) from the smallest
// value rounded down to that width, so the edges read as round numbers and the last bucket holds
// the maximum. Turns count the non-system messages (a 12-message ShareGPT dialogue has 12 turns).
import type { DatasetStats } from '../../shared/contract-datasets';
import type { DatasetMessage, DatasetSplit } from './validation-types';

export interface RowForStats {
  messages: DatasetMessage[];
  split: DatasetSplit | null;
  tokens: number | null;
}

type SplitKey = 'train' | 'validation' | 'test' | 'none';
const SPLITS: SplitKey[] = ['train', 'validation', 'test', 'none'];
export const TARGET_BUCKETS = 20;

/** The smallest 1/2/5 x 10^k that is >= x (and >= 1: lengths and turns are integers). */
export function niceWidth(x: number): number {
  if (x <= 1) return 1;
  const pow = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) if (m * pow >= x) return m * pow;
  return 10 * pow;
}

/** Edges of equal-width buckets covering [min, max]: counts[i] is for [edges[i], edges[i+1]). */
export function bucketEdges(min: number, max: number, target = TARGET_BUCKETS): number[] {
  const width = niceWidth((max - min + 1) / target);
  const start = Math.floor(min / width) * width;
  const edges = [start];
  while (edges[edges.length - 1] <= max) edges.push(edges[edges.length - 1] + width);
  return edges;
}

function histogram(values: number[], splits: SplitKey[]): NonNullable<DatasetStats['tokenLengths']> {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const edges = values.length ? bucketEdges(min, max) : [0, 1];
  const width = edges[1] - edges[0];
  const zeros = () => new Array<number>(edges.length - 1).fill(0);
  const counts = { train: zeros(), validation: zeros(), test: zeros(), none: zeros() };
  values.forEach((v, i) => counts[splits[i]][Math.floor((v - edges[0]) / width)]++);
  return { edges, counts };
}

export function datasetStats(rows: Iterable<RowForStats>): DatasetStats {
  const turns: number[] = [];
  const turnSplits: SplitKey[] = [];
  const tokens: number[] = [];
  const tokenSplits: SplitKey[] = [];
  const roleMix = Object.fromEntries(SPLITS.map((s) => [s, { system: 0, user: 0, assistant: 0 }])) as DatasetStats['roleMix'];
  let totalTokens = 0;
  for (const row of rows) {
    const split: SplitKey = row.split ?? 'none';
    const mix = roleMix[split];
    let n = 0;
    for (const m of row.messages) {
      mix[m.role]++;
      if (m.role !== 'system') n++;
    }
    turns.push(n);
    turnSplits.push(split);
    if (row.tokens !== null) {
      tokens.push(row.tokens);
      tokenSplits.push(split);
      totalTokens += row.tokens;
    }
  }
  return {
    rows: turns.length,
    // Rows edited since the last validation have no count: the histogram covers the counted ones.
    tokenLengths: tokens.length ? histogram(tokens, tokenSplits) : null,
    turns: histogram(turns, turnSplits),
    roleMix,
    totalTokens: tokens.length ? totalTokens : null,
  };
}
