// Dataset-wide duplicate checks: exact duplicates, near duplicates (MinHash + LSH over word
// shingles) and train/evaluation contamination.
//
// Rules (rows are taken in dataset order):
// - duplicate: the row's normalized text (every message's role and content, lower-cased,
//   whitespace collapsed) equals an earlier row's. The first occurrence stays clean.
// - near_duplicate: not an exact duplicate, and the estimated Jaccard similarity of its word
//   shingles with some earlier row is >= threshold. Only the later row of a pair is flagged.
// - contamination: a validation or test row that is an exact or near duplicate of any train row
//   (earlier or later): the evaluation row is flagged, the train row is not (for this).
import { BandBuckets, NUM_HASHES, estimateJaccard, rowsPerBand, shingleHashes, writeSignature } from './minhash';
import type { DatasetMessage, DatasetSplit } from './validation-types';

export interface RowForDuplicates {
  messages: readonly Pick<DatasetMessage, 'role' | 'content'>[];
  split: DatasetSplit | null;
}

export interface DuplicateFlags {
  duplicate: boolean;
  nearDuplicate: boolean;
  contamination: boolean;
}

/** Candidates confirmed per row at most: bounds the work on rows that share bands with thousands of others. */
const MAX_CANDIDATES = 500;
/** Rows between yields to the event loop, so a 100K-row check doesn't freeze the host. */
const YIELD_EVERY = 2000;

const yieldNow = () => new Promise<void>((r) => setImmediate(r));

/** JavaScript's \s: what collapses to one space in the normalized text. */
const isSpace = (c: number) =>
  c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;

/**
 * A 53-bit hash of the normalized text (each message's role and content, lower-cased, runs of
 * whitespace as one space, trimmed), computed in one pass without building the text: two
 * independent 32-bit hashes, so 100K rows collide with probability ~1e-6.
 */
export function normalizedKey(messages: RowForDuplicates['messages']): number {
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c;
  const add = (c: number) => {
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 13;
  };
  for (const m of messages) {
    add(m.role === 'system' ? 1 : m.role === 'user' ? 2 : 3);
    const text = m.content.toLowerCase();
    let started = false;
    let space = false;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (isSpace(c)) {
        space = started;
        continue;
      }
      if (space) add(32);
      add(c);
      started = true;
      space = false;
    }
    add(0); // the end of a message: ["ab"] and ["a", "b"] differ
  }
  return (fmix(h1) >>> 0) * 2 ** 21 + (fmix(h2) >>> 11);
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

export async function findDuplicates(rows: readonly RowForDuplicates[], threshold: number): Promise<DuplicateFlags[]> {
  const n = rows.length;
  const flags: DuplicateFlags[] = rows.map(() => ({ duplicate: false, nearDuplicate: false, contamination: false }));
  const isEval = (i: number) => rows[i].split === 'validation' || rows[i].split === 'test';

  // Exact: the first row of each normalized text, and whether some train row has it.
  const first = new Set<number>();
  const trainTexts = new Set<number>();
  const keys = rows.map((r, i) => {
    const key = normalizedKey(r.messages);
    if (first.has(key)) flags[i].duplicate = true;
    else first.add(key);
    if (r.split === 'train') trainTexts.add(key);
    return key;
  });
  keys.forEach((key, i) => {
    if (isEval(i) && trainTexts.has(key)) flags[i].contamination = true;
  });

  // Near: signatures of every row with words, bucketed band by band; rows sharing a bucket are
  // candidates, confirmed by the signature estimate.
  const sig = new Uint32Array(n * NUM_HASHES);
  const withWords: number[] = [];
  for (let i = 0; i < n; i++) {
    const shingles = shingleHashes(rows[i].messages.map((m) => m.content).join('\n'));
    if (shingles.length) {
      withWords.push(i);
      writeSignature(shingles, sig, i * NUM_HASHES);
    }
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await yieldNow();
  }
  const members = Int32Array.from(withWords);
  const rowsInBand = rowsPerBand(threshold);
  const buckets = new BandBuckets(n);
  const confirmed = new Int32Array(n); // candidates checked per row, across bands
  for (let band = 0; band < NUM_HASHES / rowsInBand; band++) {
    buckets.fill(sig, rowsInBand, band, members);
    for (const i of members) {
      const f = flags[i];
      let wantNear = !f.duplicate && !f.nearDuplicate;
      let wantContamination = isEval(i) && !f.contamination;
      // Buckets run in row order: past row i only a train row (contamination) can still matter.
      for (let j = buckets.first(i); j >= 0 && (wantNear || wantContamination); j = buckets.next[j]) {
        if (j >= i && !wantContamination) break;
        const earlier = wantNear && j < i;
        const train = wantContamination && j !== i && rows[j].split === 'train';
        if (!earlier && !train) continue;
        if (++confirmed[i] > MAX_CANDIDATES) break;
        if (estimateJaccard(sig, i, j) < threshold) continue;
        if (earlier) (f.nearDuplicate = true), (wantNear = false);
        if (train) (f.contamination = true), (wantContamination = false);
      }
    }
    await yieldNow();
  }
  return flags;
}
