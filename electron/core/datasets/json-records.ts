// A data file's JSON records, each with the line it starts on: a JSON array (one record per
// element), one JSON document, or JSON Lines. A record that fails to parse is quarantined with its
// line and the parser's message, and reading goes on: one bad row never costs the others.
import type { QuarantinedLine } from './sample';

export interface JsonRecord {
  /** 1-based line where the record starts. */
  line: number;
  value: unknown;
}

export interface JsonRecords {
  records: JsonRecord[];
  quarantined: QuarantinedLine[];
}

export function readJsonRecords(text: string): JsonRecords {
  const body = text.replace(/^\uFEFF/, '');
  const first = body.search(/\S/);
  if (first < 0) return { records: [], quarantined: [] };
  if (body[first] === '[') return arrayElements(body, first);
  // One pretty-printed document (axolotl's conversation.json) or JSON Lines.
  if (body[first] === '{') {
    try {
      return { records: [{ line: lineAt(body, first), value: JSON.parse(body) }], quarantined: [] };
    } catch {
      // Not one document: JSON Lines.
    }
  }
  return jsonLines(body);
}

function jsonLines(body: string): JsonRecords {
  const records: JsonRecord[] = [];
  const quarantined: QuarantinedLine[] = [];
  body.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    try {
      records.push({ line: i + 1, value: JSON.parse(line) });
    } catch (err) {
      quarantined.push({ line: i + 1, error: (err as Error).message });
    }
  });
  return { records, quarantined };
}

/**
 * The elements of a top-level JSON array, cut apart by a scan that tracks strings and nesting
 * (not by JSON.parse of the whole, which would fail the whole file for one broken element).
 */
function arrayElements(body: string, open: number): JsonRecords {
  const records: JsonRecord[] = [];
  const quarantined: QuarantinedLine[] = [];
  let line = lineAt(body, open);
  let depth = 0;
  let inString = false;
  let start = -1; // start of the current element
  let startLine = line;
  let closed = false;
  const take = (end: number) => {
    const text = body.slice(start, end);
    start = -1;
    if (!text.trim()) {
      quarantined.push({ line: startLine, error: 'empty array element (a stray comma)' });
      return;
    }
    try {
      records.push({ line: startLine, value: JSON.parse(text) });
    } catch (err) {
      quarantined.push({ line: startLine, error: (err as Error).message });
    }
  };
  for (let i = open + 1; i < body.length; i++) {
    const c = body[i];
    if (c === '\n') line++;
    if (inString) {
      if (c === '\\') i++; // an escaped character (a JSON string holds no raw newline to count)
      else if (c === '"') inString = false;
      continue;
    }
    if (depth === 0 && (c === ',' || c === ']')) {
      if (start >= 0) take(i);
      else if (c === ',') quarantined.push({ line, error: 'empty array element (a stray comma)' });
      if (c === ']') {
        closed = true;
        const rest = body.slice(i + 1).trim();
        if (rest) quarantined.push({ line, error: 'text after the closing ] of the array' });
        break;
      }
      continue;
    }
    if (start < 0 && !/\s/.test(c)) {
      start = i;
      startLine = line;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  if (!closed) {
    if (start >= 0) take(body.length);
    quarantined.push({ line, error: 'the array is not closed (missing ] at the end of the file)' });
  }
  return { records, quarantined };
}

function lineAt(text: string, index: number): number {
  let n = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}
