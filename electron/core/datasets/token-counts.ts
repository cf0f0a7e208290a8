// Token counts of rows with a model's chat template and tokenizer, as the trainer would see them:
// the engine's tokenizeSamples, in batches so progress is reported and no message grows huge.
import type { EngineClient } from '../engine/engine-client';
import { rowToSample, type RowLike } from './row-sample';
import type { ModelRecordLike } from './validation-types';

export const TOKENIZE_BATCH = 256;

export interface TokenCounts {
  /** Per row, in order; null where the row could not be tokenized. */
  counts: (number | null)[];
  /** Why, for the rows that could not be tokenized (by position). */
  errors: Map<number, string>;
  /** The chat template's name. */
  template: string;
}

export async function countTokens(
  engine: EngineClient,
  model: Pick<ModelRecordLike, 'path' | 'tokenizerPath'>,
  rows: readonly RowLike[],
  onProgress?: (done: number, total: number) => void,
): Promise<TokenCounts> {
  const counts: (number | null)[] = [];
  const errors = new Map<number, string>();
  let template = '';
  for (let start = 0; start < rows.length; start += TOKENIZE_BATCH) {
    const batch = rows.slice(start, start + TOKENIZE_BATCH);
    // Every mode gives the same tokens (only the weights differ); 'last' checks the fewest prefixes.
    const out = await engine.call('tokenizeSamples', {
      modelPath: model.path,
      tokenizerPath: model.tokenizerPath,
      samples: batch.map(rowToSample),
      mode: 'last',
      detail: false,
    });
    template = out.template;
    out.rows.forEach((r, i) => {
      if (r.error) errors.set(start + i, r.error);
      counts.push(r.error ? null : r.count);
    });
    onProgress?.(counts.length, rows.length);
  }
  return { counts, errors, template };
}
