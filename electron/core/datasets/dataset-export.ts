// Export: rows written as OpenAI chat JSONL, Alpaca JSON Lines or ShareGPT JSONL, so that the
// file re-imports to the same rows.
import type { DatasetMessage } from '../../shared/contract-datasets';
import type { RowKind } from './dataset-stream';

export type ExportFormatName = 'openai' | 'alpaca' | 'sharegpt';

export interface ExportRow {
  kind: RowKind;
  messages: DatasetMessage[];
}

/** Writes the rows (atomically: temp file, then rename) and returns how many were written. */
export async function writeDatasetExport(rows: Iterable<ExportRow>, format: ExportFormatName, file: string): Promise<number> {
  void rows;
  throw new Error(`${file}: export as ${format} not implemented yet`);
}
