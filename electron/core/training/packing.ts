// Tokenized samples -> the rows the trainer consumes (native TrainRow in llama_train.h).
// A sample of n tokens gives n-1 positions: inputs tokens[0..n-1), targets tokens[1..n) with
// weights w[1..n). With packing, whole samples are laid end to end in rows of at most maxSeqLen
// positions (Llama 2 SFT packs into 4096-token sequences); positions restart per sample and the
// segment id keeps attention inside its sample. A sample is never split across rows: one longer
// than maxSeqLen is cut to fit (and counted), since its tail would train without its head.

export type MaskMode = 'all' | 'last' | 'gatt';

/** weights[i] = 1 when token i is a trained target (predicted from tokens[0..i)), else 0; weights[0] is never used. */
export interface TokenizedSample {
  tokens: number[];
  weights: number[];
}

/** T = tokens.length; targets[t] = next token; weights[t] = weight of that target; positions restart per sample; segments = sample index within the row. */
export interface PackedRow {
  tokens: Int32Array;
  targets: Int32Array;
  weights: Float32Array;
  positions: Int32Array;
  segments: Int32Array;
}

export interface PackResult {
  rows: PackedRow[];
  /** Samples cut to maxSeqLen positions. */
  truncated: number;
  /** Samples of fewer than 2 tokens: nothing to predict, so no row holds them. */
  skipped: number;
}

export function packSamples(samples: TokenizedSample[], maxSeqLen: number, opts: { pack: boolean }): PackResult {
  if (!Number.isInteger(maxSeqLen) || maxSeqLen < 1) throw new RangeError(`maxSeqLen must be a positive integer (got ${maxSeqLen})`);
  let truncated = 0;
  let skipped = 0;
  const rows: PackedRow[] = [];
  let group: TokenizedSample[] = [];
  let groupLen = 0;
  const flush = () => {
    if (group.length) rows.push(buildRow(group, groupLen));
    group = [];
    groupLen = 0;
  };
  for (const s of samples) {
    if (s.tokens.length !== s.weights.length) throw new RangeError(`a sample has ${s.tokens.length} tokens but ${s.weights.length} weights`);
    if (s.tokens.length < 2) {
      skipped++;
      continue;
    }
    let sample = s;
    if (s.tokens.length - 1 > maxSeqLen) {
      sample = { tokens: s.tokens.slice(0, maxSeqLen + 1), weights: s.weights.slice(0, maxSeqLen + 1) };
      truncated++;
    }
    const positions = sample.tokens.length - 1;
    if (!opts.pack || groupLen + positions > maxSeqLen) flush();
    group.push(sample);
    groupLen += positions;
  }
  flush();
  return { rows, truncated, skipped };
}

function buildRow(samples: TokenizedSample[], T: number): PackedRow {
  const row: PackedRow = {
    tokens: new Int32Array(T),
    targets: new Int32Array(T),
    weights: new Float32Array(T),
    positions: new Int32Array(T),
    segments: new Int32Array(T),
  };
  let t = 0;
  samples.forEach((s, segment) => {
    for (let i = 0; i + 1 < s.tokens.length; i++, t++) {
      row.tokens[t] = s.tokens[i];
      row.targets[t] = s.tokens[i + 1];
      row.weights[t] = s.weights[i + 1];
      row.positions[t] = i;
      row.segments[t] = segment;
    }
  });
  return row;
}
