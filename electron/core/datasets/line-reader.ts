// A text file's lines, read in chunks: memory holds one chunk and the line being cut, never the
// file. Lines come with their 1-based number (what quarantine entries and rows point at); a
// leading byte-order mark and the \r of CRLF line ends are dropped.
import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

export interface TextLine {
  /** 1-based line number. */
  line: number;
  text: string;
  /** A piece of a very long line (a whole JSON array on one line): the line goes on in the next piece. */
  partial?: boolean;
}

export interface LineSource {
  lines: AsyncIterable<TextLine>;
  /** Bytes of the file read so far (chunk granularity): the import's progress. */
  bytesRead(): number;
  /** Closes the file when the lines are not read to the end. */
  close(): void;
}

const CHUNK = 256 * 1024;
/** Longer lines come in pieces of about this size, so a one-line 1 GB array is never held whole. */
const PIECE = 1024 * 1024;

export function readLines(file: string): LineSource {
  const stream = fs.createReadStream(file, { highWaterMark: CHUNK });
  async function* lines(): AsyncGenerator<TextLine> {
    const decoder = new StringDecoder('utf8');
    let carry = '';
    let n = 0;
    let first = true;
    try {
      for await (const chunk of stream) {
        let text = carry + decoder.write(chunk as Buffer);
        if (first) {
          text = text.replace(/^\uFEFF/, '');
          first = false;
        }
        let start = 0;
        for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
          yield { line: ++n, text: stripCr(text.slice(start, nl)) };
          start = nl + 1;
        }
        carry = text.slice(start);
        if (carry.length > PIECE) {
          yield { line: n + 1, text: carry, partial: true };
          carry = '';
        }
      }
      carry += decoder.end();
      if (carry) yield { line: ++n, text: stripCr(carry) };
    } finally {
      stream.destroy(); // a consumer that stops early (a preview) closes the file
    }
  }
  return { lines: lines(), bytesRead: () => stream.bytesRead, close: () => stream.destroy() };
}

/** The lines with their pieces joined again, for readers that need a line whole (JSON Lines, paragraphs). */
export async function* wholeLines(lines: AsyncIterable<TextLine>): AsyncGenerator<TextLine> {
  let pieces: string[] = [];
  for await (const l of lines) {
    if (l.partial) pieces.push(l.text);
    else {
      yield pieces.length ? { line: l.line, text: pieces.join('') + l.text } : l;
      pieces = [];
    }
  }
}

const stripCr = (s: string) => (s.endsWith('\r') ? s.slice(0, -1) : s);

/** What a quarantine entry keeps of a record's text: enough to fix it, not a whole broken file. */
export const RAW_CAP = 64 * 1024;

export function capRaw(raw: string): string {
  return raw.length > RAW_CAP ? `${raw.slice(0, RAW_CAP)}\n[… ${raw.length - RAW_CAP} more characters not kept]` : raw;
}
