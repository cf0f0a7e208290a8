// Reads a training data file into samples: detects the format (or takes the one given), converts
// every record, quarantines what can't be read (with its line and why) and flags what reads but is
// dubious. Errors name the file. The whole file is read at once; streaming import is issue 5's.
import fs from 'node:fs/promises';
import path from 'node:path';
import { readJsonRecords, type JsonRecord } from './json-records';
import { oasstConversations, type OasstPaths } from './oasst';
import { detectRecordFormat, recordToSample, type RecordFormat } from './record-formats';
import type { DatasetFormat, QuarantinedLine, ReadResult, TrainingSample } from './sample';
import { sampleProblems } from './sample-problems';

export interface ReadDatasetOptions {
  format?: DatasetFormat;
  /** OASST trees: the best-ranked path per tree (default) or every path ending on an assistant reply. */
  oasst?: OasstPaths;
}

export async function readDatasetFile(file: string, opts: ReadDatasetOptions = {}): Promise<ReadResult> {
  const requested = opts.format ?? 'auto';
  const ext = path.extname(file).toLowerCase();
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (err) {
    throw new Error(`${file}: cannot read the data file (${(err as Error).message})`);
  }
  const format = requested === 'auto' ? formatByFile(ext, bytes) : requested;
  if (format === 'csv' || format === 'parquet') {
    throw new Error(`${file}: ${format === 'csv' ? 'CSV' : 'Parquet'} datasets are not yet supported (coming with the datasets workbench); convert it to JSONL`);
  }
  const text = bytes.toString('utf8');
  if (format === 'text' && ext === '.txt') return finish('text', paragraphs(text), []);
  const { records, quarantined } = readJsonRecords(text);
  const chosen = format === 'auto' ? detect(file, records) : format;
  if (chosen === 'oasst') {
    const r = oasstConversations(records, opts.oasst ?? 'best');
    return finish('oasst', r.conversations.map((messages) => ({ kind: 'chat', messages })), [...quarantined, ...r.quarantined]);
  }
  const samples: TrainingSample[] = [];
  for (const rec of records) {
    try {
      samples.push(recordToSample(chosen, rec.value));
    } catch (err) {
      quarantined.push({ line: rec.line, error: (err as Error).message });
    }
  }
  return finish(chosen, samples, quarantined);
}

/** What the file's name or first bytes say; 'auto' when only its records can tell. */
function formatByFile(ext: string, bytes: Buffer): DatasetFormat {
  if (bytes.subarray(0, 4).toString('latin1') === 'PAR1' || ext === '.parquet') return 'parquet';
  if (ext === '.csv' || ext === '.tsv') return 'csv';
  if (ext === '.txt') return 'text';
  return 'auto';
}

/** The format of the first record that looks like one (a few broken rows don't decide it). */
function detect(file: string, records: JsonRecord[]): RecordFormat | 'oasst' {
  for (const rec of records.slice(0, 100)) {
    const f = detectRecordFormat(rec.value);
    if (f) return f;
  }
  const first = records[0]?.value;
  const keys = first && typeof first === 'object' ? Object.keys(first).slice(0, 8).join(', ') : JSON.stringify(first)?.slice(0, 40);
  throw new Error(
    `${file}: can't tell the dataset format (expected alpaca instruction/output, sharegpt conversations, openai messages, ` +
      `oasst trees or messages, prompt/completion or text records; the first record has ${records.length ? keys || 'no keys' : 'no records at all'})`,
  );
}

/** A .txt file: one sample per paragraph (paragraphs are separated by blank lines). */
function paragraphs(text: string): TrainingSample[] {
  return text
    .replace(/\r\n?/g, '\n')
    .split(/\n[ \t]*\n/)
    .map((p) => p.trim())
    .filter((p) => p)
    .map((p) => ({ kind: 'text', text: p }));
}

function finish(format: ReadResult['format'], samples: TrainingSample[], quarantined: QuarantinedLine[]): ReadResult {
  const flagged = samples.map((s, index) => ({ index, problems: sampleProblems(s) })).filter((f) => f.problems.length);
  quarantined.sort((a, b) => a.line - b.line);
  return { format, samples, quarantined, flagged };
}
