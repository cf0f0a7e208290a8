// The mask preview: one row rendered with a model's chat template and tokenizer by the engine,
// every token with its loss weight, for a masking mode (all / last / gatt).
import type { MaskPreview } from '../../shared/contract-datasets';
import type { EngineClient } from '../engine/engine-client';
import type { RowKind } from './dataset-stream';
import type { DatasetMessage, ModelRecordLike } from './validation-types';

export async function maskPreview(
  engine: EngineClient,
  model: ModelRecordLike,
  row: { kind: RowKind; messages: DatasetMessage[] },
  mode: 'all' | 'last' | 'gatt',
): Promise<MaskPreview> {
  void engine;
  void row;
  throw new Error(`maskPreview ${model.id} ${mode}: not implemented yet`);
}
