// The mask preview: one row rendered with a model's chat template and tokenizer by the engine,
// every token with its loss weight, for a masking mode (all / last / gatt). The engine tokenizes
// it exactly as training does (tokenizeForTraining), so what is shown is what is trained.
import type { MaskPreview } from '../../shared/contract-datasets';
import type { EngineClient } from '../engine/engine-client';
import { PaddockError } from '../errors';
import type { RowKind } from './dataset-stream';
import { rowToSample } from './row-sample';
import type { DatasetMessage, ModelRecordLike } from './validation-types';

export async function maskPreview(
  engine: EngineClient,
  model: ModelRecordLike,
  row: { kind: RowKind; messages: DatasetMessage[] },
  mode: 'all' | 'last' | 'gatt',
): Promise<MaskPreview> {
  const out = await engine.call('tokenizeSamples', {
    modelPath: model.path,
    tokenizerPath: model.tokenizerPath,
    samples: [rowToSample(row)],
    mode,
    detail: true,
  });
  const [r] = out.rows;
  if (!r || r.error || !r.tokens || !r.pieces || !r.weights) {
    throw new PaddockError('BAD_REQUEST', `This row can't be rendered with ${model.id}'s chat template (${out.template}): ${r?.error ?? 'the engine returned no tokens'}`);
  }
  return { modelId: model.id, template: out.template, mode, tokens: r.tokens, pieces: r.pieces, weights: r.weights };
}
