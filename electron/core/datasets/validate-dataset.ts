// Dataset-wide validation: row-local problems, token counts with a model's template and
// tokenizer (too_long), exact and near duplicates (MinHash), train/validation contamination.
import type { DatasetMessage, DatasetSplit, ModelRecordLike, RowProblem } from './validation-types';
import type { EngineClient } from '../engine/engine-client';
import type { RowKind } from './dataset-stream';
import { RowProblem as RowProblemCodes } from '../../shared/contract-datasets';
import { findDuplicates } from './duplicates';
import { rowProblems } from './row-problems';
import { countTokens } from './token-counts';

export interface RowForValidation {
  id: string;
  kind: RowKind;
  messages: DatasetMessage[];
  split: DatasetSplit | null;
}

export interface ValidationOutcome {
  /** Every row's full problem list (row-local + dataset-wide). */
  problems: Map<string, RowProblem[]>;
  /** Token counts per row id when a model was given (rows the template refused are left out: see tokenErrors). */
  tokens: Map<string, number> | null;
  maxTokens: number | null;
  nearDuplicateThreshold: number;
  /** Rows a model was given for but that could not be tokenized (a template that refuses their roles), with why. */
  tokenErrors?: Map<string, string>;
  /** Rows with each problem (a row may have several). */
  counts?: Record<RowProblem, number>;
}

export interface ValidateOptions {
  engine: EngineClient;
  model: ModelRecordLike | null;
  maxTokens?: number;
  nearDuplicateThreshold: number;
  /** Progress of the slow part, token counting (rows done of total); 100% once at the end. */
  onProgress?: (done: number, total: number) => void;
}

export const DEFAULT_NEAR_DUPLICATE_THRESHOLD = 0.8;

export async function validateDataset(rows: RowForValidation[], opts: ValidateOptions): Promise<ValidationOutcome> {
  const threshold = opts.nearDuplicateThreshold ?? DEFAULT_NEAR_DUPLICATE_THRESHOLD;
  const problems = rows.map((r) => rowProblems(r.kind, r.messages));

  let tokens: Map<string, number> | null = null;
  let tokenErrors: Map<string, string> | undefined;
  let maxTokens: number | null = null;
  if (opts.model) {
    maxTokens = opts.maxTokens ?? opts.model.contextLength;
    const counted = await countTokens(opts.engine, opts.model, rows, opts.onProgress);
    tokens = new Map();
    tokenErrors = new Map([...counted.errors].map(([i, e]) => [rows[i].id, e]));
    counted.counts.forEach((n, i) => {
      if (n === null) return;
      tokens!.set(rows[i].id, n);
      if (n > maxTokens!) problems[i].push('too_long');
    });
  }

  const dups = await findDuplicates(rows, threshold);
  dups.forEach((d, i) => {
    if (d.duplicate) problems[i].push('duplicate');
    if (d.nearDuplicate) problems[i].push('near_duplicate');
    if (d.contamination) problems[i].push('contamination');
  });
  if (!opts.model) opts.onProgress?.(rows.length, rows.length);

  const counts = Object.fromEntries(RowProblemCodes.options.map((p) => [p, 0])) as Record<RowProblem, number>;
  for (const list of problems) for (const p of list) counts[p]++;
  return {
    problems: new Map(rows.map((r, i) => [r.id, problems[i]])),
    tokens,
    maxTokens,
    nearDuplicateThreshold: threshold,
    tokenErrors,
    counts,
  };
}
