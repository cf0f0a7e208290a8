// A data file as a stream of training samples in batches, whatever its format: the one place that
// knows how a file is recognised (magic bytes, extension, then the first records) and which reader
// serves it. Memory is bounded by a batch (OASST flat files: by one tree; Parquet: by a row group).
// The import (dataset-stream.ts) and `train` / `mask` (read-dataset.ts) both consume it.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ColumnMapping } from '../../shared/contract-datasets';
import { openCsvSource } from './csv-source';
import { isBroken, jsonRecords, type BrokenRecord, type JsonItem } from './json-records';
import { readLines, wholeLines, type TextLine } from './line-reader';
import { OasstTreeReader, type OasstPaths } from './oasst';
import { openParquetSource } from './parquet-source';
import { detectRecordFormat, recordToSample, type RecordFormat } from './record-formats';
import type { DatasetFormat, TrainingSample } from './sample';
import type { SourceItem } from './table-source';

export interface SampleStreamOptions {
  format?: DatasetFormat;
  oasst?: OasstPaths;
  columns?: ColumnMapping;
  /** A preview opens a table even when no column mapping fits, to show its columns. */
  allowUnmapped?: boolean;
}

export interface LinedSample {
  sample: TrainingSample;
  /** 1-based line (record number for Parquet). */
  line: number | null;
}

export interface SampleBatch {
  samples: LinedSample[];
  quarantined: BrokenRecord[];
  bytesRead: number;
}

export interface SampleStream {
  format: Exclude<DatasetFormat, 'auto'>;
  /** True when the format was recognised rather than given. */
  detected: boolean;
  totalBytes: number;
  /** CSV / Parquet: the header, the mapping in use (null when none fits), the CSV delimiter. */
  table: { columns: string[]; mapping: ColumnMapping | null; mappingError: string | null; delimiter?: string } | null;
  /** OASST: conversations along top-ranked paths and along all paths, counted as trees are read. */
  oasstCounts: { best: number; all: number } | null;
  /** Read once, in file order. Stopping early closes the file. */
  batches(): AsyncGenerator<SampleBatch>;
  /** Closes the file of a stream whose batches are not read to the end (or not at all). */
  close(): void;
}

const BATCH = 1000;
/** Records looked at to recognise a JSON file's format (a few broken ones don't decide it). */
const DETECT_RECORDS = 100;

export async function openSampleStream(file: string, opts: SampleStreamOptions = {}): Promise<SampleStream> {
  const requested = opts.format ?? 'auto';
  const { size, head } = await peek(file);
  const ext = path.extname(file).toLowerCase();
  const byFile = requested === 'auto' ? formatByFile(ext, head) : requested;
  if (byFile === 'csv' || byFile === 'parquet') {
    const source = byFile === 'csv' ? await openCsvSource(file, opts.columns) : await openParquetSource(file, opts.columns);
    if (source.mapping instanceof Error && !opts.allowUnmapped) {
      source.close();
      throw source.mapping;
    }
    return {
      format: byFile,
      detected: requested === 'auto',
      totalBytes: size,
      table: {
        columns: source.columns,
        mapping: source.mapping instanceof Error ? null : source.mapping,
        mappingError: source.mapping instanceof Error ? source.mapping.message : null,
        ...(source.delimiter ? { delimiter: source.delimiter } : {}),
      },
      oasstCounts: null,
      batches: () => batched(source.mapping instanceof Error ? empty() : source.items(), source),
      close: source.close,
    };
  }
  const lines = readLines(file);
  const firstChar = head.replace(/^\uFEFF/, '').trimStart()[0];
  if (byFile === 'text' && (ext === '.txt' || (firstChar !== '{' && firstChar !== '['))) {
    return { format: 'text', detected: requested === 'auto', totalBytes: size, table: null, oasstCounts: null, batches: () => batched(paragraphs(wholeLines(lines.lines)), lines), close: lines.close };
  }
  const records = jsonRecords(lines.lines);
  const seen: JsonItem[] = [];
  let format: RecordFormat | 'oasst';
  if (byFile === 'auto') {
    try {
      format = await detect(file, records, seen);
    } catch (err) {
      lines.close();
      throw err;
    }
  } else format = byFile;
  const oasst = format === 'oasst' ? new OasstTreeReader(opts.oasst ?? 'best') : null;
  return {
    format,
    detected: requested === 'auto',
    totalBytes: size,
    table: null,
    oasstCounts: oasst?.counts ?? null,
    batches: () => batched(recordSamples(seen, records, format, oasst), lines),
    close: lines.close,
  };
}

/** The file's size and first bytes (for magic bytes and the first character). */
async function peek(file: string): Promise<{ size: number; head: string }> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (err) {
    throw new Error(`${file}: cannot read the data file (${(err as Error).message})`);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new Error(`${file}: cannot read the data file (not a file)`);
    const size = stat.size;
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(4096), 0, 4096, 0);
    return { size, head: buffer.subarray(0, bytesRead).toString('utf8') };
  } finally {
    await handle.close();
  }
}

/** What the file's name or first bytes say; 'auto' when only its records can tell. */
function formatByFile(ext: string, head: string): DatasetFormat {
  if (head.startsWith('PAR1') || ext === '.parquet') return 'parquet';
  if (ext === '.csv' || ext === '.tsv') return 'csv';
  if (ext === '.txt') return 'text';
  return 'auto';
}

/** The format of the first record that looks like one; the records read to find it are kept in `seen`. */
async function detect(file: string, records: AsyncGenerator<JsonItem>, seen: JsonItem[]): Promise<RecordFormat | 'oasst'> {
  let parsed = 0;
  for (let n = await records.next(); !n.done; n = await records.next()) {
    seen.push(n.value);
    if (isBroken(n.value)) continue;
    const f = detectRecordFormat(n.value.value);
    if (f) return f;
    if (++parsed >= DETECT_RECORDS || seen.length >= 10 * DETECT_RECORDS) break;
  }
  const first = seen.find((r) => !isBroken(r));
  const broken = seen.find(isBroken);
  if (!first && broken) throw new Error(`${file}: no JSON record could be read (line ${broken.line}: ${broken.error})`);
  const value = first && !isBroken(first) ? first.value : undefined;
  const keys = value && typeof value === 'object' ? Object.keys(value).slice(0, 8).join(', ') : JSON.stringify(value)?.slice(0, 40);
  throw new Error(
    `${file}: can't tell the dataset format (expected alpaca instruction/output, sharegpt conversations, openai messages, ` +
      `oasst trees or messages, prompt/completion or text records; the first record has ${first ? keys || 'no keys' : 'no records at all'})`,
  );
}

async function* recordSamples(seen: JsonItem[], rest: AsyncGenerator<JsonItem>, format: RecordFormat | 'oasst', oasst: OasstTreeReader | null): AsyncGenerator<SourceItem> {
  async function* all() {
    yield* seen.splice(0); // the detection's records, then the rest (not held twice)
    yield* rest;
  }
  for await (const rec of all()) {
    if (isBroken(rec)) {
      yield { quarantine: rec };
    } else if (oasst) {
      yield* oasstItems(oasst.add(rec));
    } else {
      try {
        yield { sample: recordToSample(format as RecordFormat, rec.value), line: rec.line };
      } catch (err) {
        yield { quarantine: { line: rec.line, raw: rec.text, error: (err as Error).message } };
      }
    }
  }
  if (oasst) yield* oasstItems(oasst.end());
}

function* oasstItems(out: ReturnType<OasstTreeReader['add']>): Generator<SourceItem> {
  for (const q of out.quarantined) yield { quarantine: q };
  for (const c of out.conversations) yield { sample: { kind: 'chat', messages: c.messages }, line: c.line };
}

/** A plain text file: one sample per paragraph (paragraphs are separated by blank lines). */
async function* paragraphs(lines: AsyncIterable<TextLine>): AsyncGenerator<SourceItem> {
  let parts: string[] = [];
  let start = 0;
  const take = (): SourceItem | null => {
    const text = parts.join('\n').trim();
    parts = [];
    return text ? { sample: { kind: 'text', text }, line: start } : null;
  };
  for await (const { line, text } of lines) {
    if (!text.trim()) {
      const p = take();
      if (p) yield p;
      continue;
    }
    if (!parts.length) start = line;
    parts.push(text);
  }
  const p = take();
  if (p) yield p;
}

async function* empty(): AsyncGenerator<SourceItem> {}

async function* batched(items: AsyncGenerator<SourceItem>, source: { bytesRead(): number }): AsyncGenerator<SampleBatch> {
  let batch: SampleBatch = { samples: [], quarantined: [], bytesRead: 0 };
  for await (const item of items) {
    if ('quarantine' in item) batch.quarantined.push(item.quarantine);
    else batch.samples.push(item);
    if (batch.samples.length + batch.quarantined.length >= BATCH) {
      batch.bytesRead = source.bytesRead();
      yield batch;
      batch = { samples: [], quarantined: [], bytesRead: 0 };
    }
  }
  batch.bytesRead = source.bytesRead();
  if (batch.samples.length || batch.quarantined.length) yield batch;
}
