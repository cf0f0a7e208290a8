// MinHash signatures of word shingles and LSH banding, for near-duplicate search in linear time.
//
// - Shingles: lower-cased words (runs of letters, marks and digits; punctuation and spaces split
//   them), SHINGLE_WORDS consecutive words per shingle; a shorter text is one shingle of all its
//   words. Scripts written without spaces (Chinese, Japanese) make long "words": near duplicates
//   there are only found when nearly whole sentences repeat.
// - Signature: NUM_HASHES minima of independent 32-bit hashes over the shingles; the fraction of
//   equal entries of two signatures estimates the Jaccard similarity of their shingle sets
//   (standard error sqrt(J(1-J)/128) <= 0.044).
// - Banding: the signature is cut into bands of `rows` entries; two texts become candidates when
//   any band is equal (bucketed one band at a time, in typed arrays). rowsPerBand picks the widest band that still catches a pair at the
//   threshold with probability >= 0.99 (fewer, cheaper candidates), and candidates are confirmed
//   with the signature estimate.

export const SHINGLE_WORDS = 5;
export const NUM_HASHES = 128;

/** Murmur3's finalizer: a 32-bit avalanche. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Per-function salts and odd multipliers, fixed so signatures are reproducible. */
const SALT = new Uint32Array(NUM_HASHES);
const MULT = new Uint32Array(NUM_HASHES);
for (let i = 0; i < NUM_HASHES; i++) {
  SALT[i] = fmix32(0x9e3779b9 + i * 2);
  MULT[i] = fmix32(0x7f4a7c15 + i * 2 + 1) | 1;
}

/** Per UTF-16 unit: 1 when it belongs to a word (letters, marks, digits; surrogates count as letters), 2 when not, 0 not yet known. */
const WORD_UNIT = new Uint8Array(65536);
const WORD_CHAR = /[\p{L}\p{M}\p{N}]/u;

function isWordUnit(c: number): boolean {
  let k = WORD_UNIT[c];
  if (k === 0) WORD_UNIT[c] = k = (c >= 0xd800 && c <= 0xdfff) || WORD_CHAR.test(String.fromCharCode(c)) ? 1 : 2;
  return k === 1;
}

/** 32-bit hashes of the text's word shingles (repeats allowed: they don't change a minimum). */
export function shingleHashes(text: string): Int32Array {
  // Words are hashed while scanning (FNV-1a over UTF-16 units): no strings or match objects per word.
  const lower = text.toLowerCase();
  const words: number[] = [];
  let h = 0;
  let inWord = false;
  for (let i = 0; i < lower.length; i++) {
    const c = lower.charCodeAt(i);
    const word = c < 128 ? (c >= 97 && c <= 122) || (c >= 48 && c <= 57) : isWordUnit(c);
    if (word) {
      if (!inWord) (h = 0x811c9dc5), (inWord = true);
      h = Math.imul(h ^ c, 0x01000193);
    } else if (inWord) {
      words.push(h);
      inWord = false;
    }
  }
  if (inWord) words.push(h);
  const k = Math.min(SHINGLE_WORDS, words.length);
  const out = new Int32Array(k ? words.length - k + 1 : 0);
  for (let i = 0; i < out.length; i++) {
    let x = 0;
    for (let j = 0; j < k; j++) x = Math.imul(x ^ words[i + j], 0x01000193) + j;
    out[i] = fmix32(x);
  }
  return out;
}

/** Writes the MinHash signature of `shingles` into sig[offset .. offset + NUM_HASHES). */
export function writeSignature(shingles: Int32Array, sig: Uint32Array, offset: number): void {
  // One hash function at a time over every shingle keeps the running minimum in a register.
  for (let i = 0; i < NUM_HASHES; i++) {
    const salt = SALT[i];
    const mult = MULT[i];
    let min = 0xffffffff;
    for (let j = 0; j < shingles.length; j++) {
      let v = Math.imul(shingles[j] ^ salt, mult);
      v = (v ^ (v >>> 15)) >>> 0;
      if (v < min) min = v;
    }
    sig[offset + i] = min;
  }
}

/** The estimated Jaccard similarity of rows a and b of a signature matrix. */
export function estimateJaccard(sig: Uint32Array, a: number, b: number): number {
  let same = 0;
  const pa = a * NUM_HASHES;
  const pb = b * NUM_HASHES;
  for (let i = 0; i < NUM_HASHES; i++) if (sig[pa + i] === sig[pb + i]) same++;
  return same / NUM_HASHES;
}

/** Signature entries per LSH band for a threshold (a divisor of NUM_HASHES). */
export function rowsPerBand(threshold: number): number {
  let best = 1;
  for (let r = 1; r <= NUM_HASHES; r *= 2) {
    const bands = NUM_HASHES / r;
    if (1 - (1 - threshold ** r) ** bands >= 0.99) best = r;
  }
  return best;
}

/**
 * One band's buckets, in typed arrays (no per-bucket allocation at 100K rows): fill() groups the
 * given rows by their entries of that band; first(row) is the earliest row of row's bucket and
 * next[r] the row after r in it (row order), -1 at the end. Reused band after band.
 */
export class BandBuckets {
  private readonly mask: number;
  private readonly keys: Uint32Array;
  private readonly heads: Int32Array;
  private readonly tails: Int32Array;
  private readonly slotOf: Int32Array;
  readonly next: Int32Array;

  constructor(n: number) {
    let cap = 16;
    while (cap < 2 * n) cap *= 2;
    this.mask = cap - 1;
    this.keys = new Uint32Array(cap);
    this.heads = new Int32Array(cap);
    this.tails = new Int32Array(cap);
    this.slotOf = new Int32Array(n);
    this.next = new Int32Array(n);
  }

  /** Buckets `members` (row numbers, ascending) by entries [band * rows, (band + 1) * rows) of their signatures. */
  fill(sig: Uint32Array, rows: number, band: number, members: Int32Array): void {
    this.heads.fill(-1);
    for (const row of members) {
      let h = band;
      const p = row * NUM_HASHES + band * rows;
      for (let i = 0; i < rows; i++) h = Math.imul(h ^ sig[p + i], 0x01000193);
      const key = fmix32(h);
      let slot = key & this.mask;
      // Linear probing; a 32-bit key collision only adds a candidate, which the estimate then rejects.
      while (this.heads[slot] !== -1 && this.keys[slot] !== key) slot = (slot + 1) & this.mask;
      if (this.heads[slot] === -1) {
        this.keys[slot] = key;
        this.heads[slot] = row;
      } else this.next[this.tails[slot]] = row;
      this.tails[slot] = row;
      this.next[row] = -1;
      this.slotOf[row] = slot;
    }
  }

  first(row: number): number {
    return this.heads[this.slotOf[row]];
  }
}
