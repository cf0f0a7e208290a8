// CSV and TSV through csv-parse, streamed: the first record is the header, every other record a
// row read through the column mapping. A record csv-parse can't read (a wrong number of fields, a
// quote never closed) is quarantined with its line, its raw text and csv-parse's message.
// Quotes inside unquoted fields are kept as text (relax_quotes), as spreadsheets write them.
import fs from 'node:fs';
import { parse, type CsvError } from 'csv-parse';
import type { ColumnMapping } from '../../shared/contract-datasets';
import type { BrokenRecord } from './json-records';
import { capRaw } from './line-reader';
import { resolveMapping, tableRowToSample } from './table-mapping';
import type { SourceItem, TableSource } from './table-source';

interface ParsedRecord {
  record: string[];
  raw: string;
  /** 1-based line where the record starts. */
  line: number;
}

export async function openCsvSource(file: string, given?: ColumnMapping): Promise<TableSource> {
  const delimiter = await sniffDelimiter(file);
  const skipped: BrokenRecord[] = [];
  // csv-parse counts a CRLF inside a quoted cell as two lines: the callbacks run in input order,
  // so the surplus seen so far is subtracted from its line numbers.
  let surplus = 0;
  const startLine = (raw: string, endLine: number) => {
    surplus += count(raw, '\r\n');
    return Math.max(1, endLine - surplus - count(raw, '\n'));
  };
  const input = fs.createReadStream(file);
  const parser = parse({
    delimiter,
    bom: true,
    info: true,
    raw: true,
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    // With info and raw on, csv-parse hands on_record {record, raw, info} (its typings don't say so).
    on_record: ((r: { record: string[]; raw: string; info: { lines: number } }): ParsedRecord => {
      const text = trimEnd(r.raw);
      return { record: r.record, raw: text, line: startLine(text, r.info.lines) };
    }) as unknown as (record: string[]) => string[],
    on_skip: (err: CsvError | undefined, raw: string | undefined) => {
      const text = trimEnd(raw ?? '');
      const end = (err as (CsvError & { lines?: number }) | undefined)?.lines ?? 1;
      skipped.push({ line: startLine(text, end), raw: capRaw(text), error: err?.message ?? 'unreadable CSV record' });
    },
  });
  input.on('error', (err) => parser.destroy(new Error(`${file}: cannot read the data file (${err.message})`)));
  const records = input.pipe(parser)[Symbol.asyncIterator]() as AsyncIterator<ParsedRecord>;
  const close = () => {
    input.destroy();
    parser.destroy();
  };
  let head: IteratorResult<ParsedRecord>;
  try {
    head = await records.next();
  } catch (err) {
    close();
    throw new Error(`${file}: not a readable CSV file (${(err as Error).message})`);
  }
  if (head.done) {
    close();
    throw new Error(`${file}: the CSV file is empty (expected a header line naming the columns)`);
  }
  const columns = head.value.record.map((c) => c.trim());
  let mapping: ColumnMapping | Error;
  try {
    mapping = resolveMapping(file, columns, given);
  } catch (err) {
    mapping = err as Error;
  }
  async function* items(): AsyncGenerator<SourceItem> {
    if (mapping instanceof Error) throw mapping;
    try {
      for (let next = await records.next(); !next.done; next = await records.next()) {
        while (skipped.length) yield { quarantine: skipped.shift()! };
        const { record, raw, line } = next.value;
        const row = Object.fromEntries(columns.map((c, i) => [c, record[i]]));
        try {
          yield { sample: tableRowToSample(row, mapping), line };
        } catch (err) {
          yield { quarantine: { line, raw: capRaw(raw), error: (err as Error).message } };
        }
      }
      while (skipped.length) yield { quarantine: skipped.shift()! };
    } finally {
      close();
    }
  }
  return { columns, mapping, delimiter, items, bytesRead: () => input.bytesRead, close };
}

/** Tab-separated when the extension says so or the header has tabs and no commas. */
async function sniffDelimiter(file: string): Promise<string> {
  if (file.toLowerCase().endsWith('.tsv')) return '\t';
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, 'r');
  } catch (err) {
    throw new Error(`${file}: cannot read the data file (${(err as Error).message})`);
  }
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(64 * 1024), 0, 64 * 1024, 0);
    const firstLine = buffer.subarray(0, bytesRead).toString('utf8').split('\n')[0];
    return firstLine.includes('\t') && !firstLine.includes(',') ? '\t' : ',';
  } finally {
    await handle.close();
  }
}

const trimEnd = (s: string) => s.replace(/[\r\n]+$/, '');
const count = (s: string, what: string) => {
  let n = 0;
  for (let i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + what.length)) n++;
  return n;
};
