// Streaming import: a data file read in batches (bounded memory for 100K+ rows), each record
// turned into a row or a quarantine entry (line, raw text, the parser's message); plus the
// preview the import dialog shows before anything is stored, and the re-parse of a fixed line.
// The formats themselves live in sample-stream.ts and its readers; this file speaks in rows.
import type { z } from 'zod';
import { parse as parseCsv } from 'csv-parse/sync';
import type { ColumnMapping, DatasetMessage, DatasetRowKind, datasetsContract } from '../../shared/contract-datasets';
import { oasstTreeBestPath } from './oasst';
import { detectRecordFormat, recordToSample, type RecordFormat } from './record-formats';
import { rowProblems } from './row-problems';
import { sampleToRow } from './row-sample';
import { openSampleStream, type LinedSample } from './sample-stream';
import { resolveMapping, tableRowToSample } from './table-mapping';

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

/** What parseRecordText needs besides the format to re-read a fixed CSV / Parquet row. */
export interface RecordContext {
  columns?: ColumnMapping;
  /** CSV: the header, so a fixed line can be read as one CSV record. */
  header?: string[];
  delimiter?: string;
}

export interface DatasetStream {
  /** The format the file was read as (detected or given). */
  format: string;
  totalBytes: number;
  /** Batches in file order; memory stays bounded by a batch (OASST trees: by the tree index). */
  batches(): AsyncIterable<DatasetStreamBatch>;
  /** CSV / Parquet: the columns and mapping in use; store it to re-read fixed quarantine lines. */
  recordContext?: RecordContext;
  /** OASST: conversations along top-ranked and along all paths, complete once the batches are read. */
  oasstCounts?: { best: number; all: number } | null;
  /** Closes the file when the batches are not read to the end. */
  close?(): void;
}

export async function openDatasetStream(file: string, opts: DatasetStreamOptions): Promise<DatasetStream> {
  const stream = await openSampleStream(file, { format: opts.format, oasst: opts.oasst, columns: opts.columns });
  const table = stream.table;
  return {
    format: stream.format,
    totalBytes: stream.totalBytes,
    async *batches() {
      for await (const b of stream.batches()) yield { rows: b.samples.map(toStreamRow), quarantined: b.quarantined, bytesRead: b.bytesRead };
    },
    ...(table ? { recordContext: { columns: table.mapping ?? undefined, header: table.columns, delimiter: table.delimiter } } : {}),
    oasstCounts: stream.oasstCounts,
    close: stream.close,
  };
}

const toStreamRow = ({ sample, line }: LinedSample): StreamRow => ({ ...sampleToRow(sample), line });

export type DatasetPreview = z.output<(typeof datasetsContract)['datasets.preview']['response']>;

/**
 * The head of a file as it would import: up to `limit` rows (and the quarantine entries met on the
 * way), with the columns of a table (rows are empty when no column mapping fits yet: the user maps
 * them) and, for OpenAssistant files, both path counts — which reads the whole file (counting only).
 */
export async function previewDataset(file: string, opts: DatasetStreamOptions, limit = 20): Promise<DatasetPreview> {
  const stream = await openSampleStream(file, { format: opts.format, oasst: opts.oasst, columns: opts.columns, allowUnmapped: true });
  const rows: DatasetPreview['rows'] = [];
  const quarantined: DatasetPreview['quarantined'] = [];
  try {
    for await (const batch of stream.batches()) {
      for (const s of batch.samples) {
        if (rows.length >= limit) break;
        const row = toStreamRow(s);
        rows.push({ kind: row.kind, messages: row.messages, problems: rowProblems(row.kind, row.messages), sourceLine: row.line });
      }
      for (const q of batch.quarantined) if (quarantined.length < limit) quarantined.push({ line: q.line, raw: q.raw, error: q.error });
      if (rows.length >= limit && !stream.oasstCounts) break;
    }
  } finally {
    stream.close();
  }
  return {
    format: stream.format,
    detected: stream.detected,
    rows,
    quarantined: quarantined.sort((a, b) => a.line - b.line),
    columns: stream.table?.columns ?? null,
    oasstCounts: stream.oasstCounts ? { ...stream.oasstCounts } : null,
    fileBytes: stream.totalBytes,
  };
}

/**
 * Parses one record's corrected text as the dataset's format (a fixed quarantine line); throws with
 * the parser's message. OASST takes a whole tree (its best path): a lone flat message is no
 * conversation. CSV takes the corrected line (with the header of `context`) or a JSON object of
 * column values; Parquet the JSON object.
 */
export function parseRecordText(format: string, raw: string, context: RecordContext = {}): StreamRow {
  if (format === 'csv' || format === 'parquet') return { ...sampleToRow(tableRecord(raw, context)), line: null };
  const value: unknown = JSON.parse(raw);
  if (format === 'oasst') return { ...sampleToRow({ kind: 'chat', messages: oasstTreeBestPath(value) }), line: null };
  let recordFormat = format as RecordFormat;
  if (format === 'auto') {
    const detected = detectRecordFormat(value);
    if (!detected || detected === 'oasst') throw new Error('not a record of a known format (alpaca, sharegpt, openai, completions, text)');
    recordFormat = detected;
  } else if (!RECORD_FORMATS.includes(recordFormat)) {
    throw new Error(`unknown dataset format "${format}"`);
  }
  return { ...sampleToRow(recordToSample(recordFormat, value)), line: null };
}

const RECORD_FORMATS: RecordFormat[] = ['alpaca', 'sharegpt', 'openai', 'completions', 'text'];

function tableRecord(raw: string, context: RecordContext) {
  let row: Record<string, unknown>;
  if (raw.trimStart().startsWith('{')) {
    const value: unknown = JSON.parse(raw);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('expected a JSON object of column values');
    row = value as Record<string, unknown>;
  } else {
    if (!context.header) throw new Error('a CSV line needs the header of its file (or give the row as a JSON object of column values)');
    const records = parseCsv(raw, { delimiter: context.delimiter ?? ',', relax_quotes: true, skip_empty_lines: true }) as string[][];
    if (records.length !== 1) throw new Error(`expected one CSV record, found ${records.length}`);
    if (records[0].length !== context.header.length) throw new Error(`expected ${context.header.length} fields (${context.header.join(', ')}), found ${records[0].length}`);
    row = Object.fromEntries(context.header.map((c, i) => [c, records[0][i]]));
  }
  const columns = [...new Set([...(context.header ?? []), ...Object.keys(row)])];
  return tableRowToSample(row, resolveMapping('the fixed row', columns, context.columns));
}
