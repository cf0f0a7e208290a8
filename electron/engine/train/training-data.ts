// A run's data, from file to packed rows: read (format detected as `dataset import` does),
// tokenize with the model's template and tokenizer under the run's loss mask, pack. Quarantined
// lines are reported (the run goes on without them); a file with nothing trainable is an error.
import { readDatasetFile } from '../../core/datasets/read-dataset';
import { PackedRow, packSamples } from '../../core/training/packing';
import type { RunConfig } from '../../core/training/run-config';
import type { NativeModel } from '../addon';
import { tokenizeForTraining } from '../training-rows';

export interface TrainingData {
  rows: PackedRow[];
  samples: number;
  quarantined: number;
  truncated: number;
  /** Tokens in every row together: with the row count, a fingerprint a resume checks. */
  tokens: number;
}

export async function loadTrainingData(model: NativeModel, c: RunConfig, warn: (msg: string) => void): Promise<TrainingData> {
  const read = await readDatasetFile(c.data, { format: c.format });
  for (const q of read.quarantined.slice(0, 5)) warn(`${c.data}:${q.line}: quarantined, not trained on (${q.error})`);
  if (read.quarantined.length > 5) warn(`${c.data}: ${read.quarantined.length} lines quarantined in all`);
  if (read.flagged.length) warn(`${c.data}: ${read.flagged.length} samples flagged by validation (trained on anyway)`);
  const tokenized = read.samples.map((s) => tokenizeForTraining(model, s, c.mask));
  const packed = packSamples(tokenized, c.maxSeqLen, { pack: c.pack });
  if (packed.truncated) warn(`${c.data}: ${packed.truncated} samples cut to ${c.maxSeqLen} tokens`);
  const trainable = packed.rows.filter((r) => r.weights.some((w) => w > 0));
  if (trainable.length < packed.rows.length) warn(`${c.data}: ${packed.rows.length - trainable.length} rows have no trained token (mask "${c.mask}") and are left out`);
  if (!trainable.length) throw new Error(`${c.data}: no trainable tokens (${read.samples.length} samples read as ${read.format}, mask "${c.mask}")`);
  return {
    rows: trainable,
    samples: read.samples.length,
    quarantined: read.quarantined.length,
    truncated: packed.truncated,
    tokens: trainable.reduce((n, r) => n + r.tokens.length, 0),
  };
}
