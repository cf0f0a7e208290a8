// Dataset-wide validation: row-local problems, token counts with a model's template and
// tokenizer (too_long), exact and near duplicates (MinHash), train/validation contamination.
import type { DatasetMessage, DatasetSplit, ModelRecordLike, RowProblem } from './validation-types';
import type { EngineClient } from '../engine/engine-client';
import type { RowKind } from './dataset-stream';

export interface RowForValidation {
  id: string;
  kind: RowKind;
  messages: DatasetMessage[];
  split: DatasetSplit | null;
}

export interface ValidationOutcome {
  /** Every row's full problem list (row-local + dataset-wide). */
  problems: Map<string, RowProblem[]>;
  /** Token counts per row id when a model was given. */
  tokens: Map<string, number> | null;
  maxTokens: number | null;
  nearDuplicateThreshold: number;
}

export interface ValidateOptions {
  engine: EngineClient;
  model: ModelRecordLike | null;
  maxTokens?: number;
  nearDuplicateThreshold: number;
  onProgress?: (done: number, total: number) => void;
}

export async function validateDataset(rows: RowForValidation[], opts: ValidateOptions): Promise<ValidationOutcome> {
  void rows;
  void opts;
  throw new Error('validateDataset: not implemented yet');
}
