// A data file's JSON records, streamed, each with the line it starts on: a JSON array (one record
// per element, cut apart by a scan — the array is never parsed or held whole), JSON Lines, or one
// or more pretty-printed documents. A record that fails to parse is handed on with its line, its
// raw text and the parser's message, and reading goes on: one bad row never costs the others.
import { JsonValueScanner, type ScannedValue } from './json-scanner';
import { capRaw, wholeLines, type TextLine } from './line-reader';

export interface JsonRecord {
  /** 1-based line where the record starts. */
  line: number;
  value: unknown;
  /** The record's text as the file has it (a quarantine entry keeps it when the record is not a sample). */
  text: string;
}

export interface BrokenRecord {
  line: number;
  raw: string;
  error: string;
}

export type JsonItem = JsonRecord | BrokenRecord;

export const isBroken = (item: JsonItem): item is BrokenRecord => 'error' in item;

/**
 * The layout is decided by the first lines: '[' opens an array; a first (or second) line that parses
 * on its own means JSON Lines (so a broken first line does not change the layout); anything else is
 * read as pretty-printed documents (axolotl's conversation.json).
 */
export async function* jsonRecords(lines: AsyncIterable<TextLine>): AsyncGenerator<JsonItem> {
  const iter = lines[Symbol.asyncIterator]();
  const head: TextLine[] = []; // what was read to decide the layout, handed on unchanged
  let layout: 'array' | 'lines' | 'documents' | undefined;
  let nonEmpty = 0;
  let pieces = '';
  while (!layout) {
    const next = await iter.next();
    if (next.done) break;
    const l = next.value;
    if (!nonEmpty && !l.text.trim()) continue;
    head.push(l);
    if (!nonEmpty && !pieces && l.text.trimStart().startsWith('[')) layout = 'array';
    else if (l.partial) pieces += l.text; // decide on the whole line
    else {
      const whole = pieces + l.text;
      pieces = '';
      if (!whole.trim()) continue;
      nonEmpty++;
      if (parsesAlone(whole)) layout = 'lines';
      else if (nonEmpty === 2) layout = 'documents';
    }
  }
  layout ??= 'lines';
  const rest = (async function* () {
    yield* head;
    for (let n = await iter.next(); !n.done; n = await iter.next()) yield n.value;
  })();
  if (layout === 'lines') yield* jsonLines(wholeLines(rest));
  else yield* scanned(rest, new JsonValueScanner(layout === 'array' ? 'array' : 'sequence'));
}

function parsesAlone(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

async function* jsonLines(lines: AsyncIterable<TextLine>): AsyncGenerator<JsonItem> {
  for await (const { line, text } of lines) {
    if (!text.trim()) continue;
    yield parseRecord(line, text);
  }
}

async function* scanned(lines: AsyncIterable<TextLine>, scanner: JsonValueScanner): AsyncGenerator<JsonItem> {
  for await (const { line, text, partial } of lines) {
    for (const v of scanner.feed(text, line, partial)) yield fromScanned(v);
  }
  for (const v of scanner.end()) yield fromScanned(v);
}

function fromScanned(v: ScannedValue): JsonItem {
  return 'error' in v ? { line: v.line, raw: capRaw(v.raw), error: v.error } : parseRecord(v.line, v.text);
}

/** One record's text -> its value, or the parser's message. */
export function parseRecord(line: number, text: string): JsonItem {
  try {
    return { line, value: JSON.parse(text), text };
  } catch (err) {
    return { line, raw: capRaw(text), error: (err as Error).message };
  }
}
