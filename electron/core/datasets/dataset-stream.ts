// Streaming import: a data file read in batches (bounded memory for 100K+ rows), each record
// turned into a row or a quarantine entry (line, raw text, the parser's message); plus the
// preview the import dialog shows before anything is stored, and the re-parse of a fixed line.
import type { ColumnMapping, DatasetMessage, DatasetRowKind } from '../../shared/contract-datasets';
import type { z } from 'zod';

export type RowKind = z.output<typeof DatasetRowKind>;

export interface StreamRow {
  kind: RowKind;
  messages: DatasetMessage[];
  /** 1-based line (or record number for formats without lines), null when not meaningful. */
  line: number | null;
}

export interface StreamQuarantine {
  line: number;
  raw: string;
  error: string;
}

export interface DatasetStreamOptions {
  format: 'auto' | 'alpaca' | 'sharegpt' | 'openai' | 'oasst' | 'completions' | 'text' | 'csv' | 'parquet';
  oasst: 'best' | 'all';
  columns?: ColumnMapping;
}

export interface DatasetStreamBatch {
  rows: StreamRow[];
  quarantined: StreamQuarantine[];
  bytesRead: number;
}

export interface DatasetStream {
  /** The format the file was read as (detected or given). */
  format: string;
  totalBytes: number;
  /** Batches in file order; memory stays bounded by a batch (OASST trees: by the tree index). */
  batches(): AsyncIterable<DatasetStreamBatch>;
}

export async function openDatasetStream(file: string, opts: DatasetStreamOptions): Promise<DatasetStream> {
  throw new Error(`${file}: openDatasetStream(${opts.format}) not implemented yet`);
}

/** Parses one record's corrected text as the dataset's format (a fixed quarantine line); throws with the parser's message. */
export function parseRecordText(format: string, raw: string): StreamRow {
  throw new Error(`parseRecordText(${format}, ${raw.length} chars) not implemented yet`);
}
