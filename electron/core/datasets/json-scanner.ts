// Cuts JSON text fed line by line into its top-level values without parsing it whole: the elements
// of one top-level array ('array'), or values one after another (a pretty-printed document, or
// several: 'sequence'). It tracks strings and nesting only, so one broken element is handed on
// (and quarantined by the caller) while the others still parse, and memory holds one element.
//
// Broken values are cut off so that the next ones are still found (see giveUp): a line that ends
// inside a string (JSON strings hold no raw line break), and a value whose brackets never close
// (a missing } would swallow the rest of the file: given up at the end of the input or once it
// outgrows MAX_VALUE). A stray ] inside the array does not end it when more text follows.
import { RAW_CAP } from './line-reader';

export type ScannedValue = { line: number; text: string } | { line: number; raw: string; error: string };

/** No training record is this big: beyond it the value is taken for an unclosed one. */
const MAX_VALUE = 16 * 1024 * 1024;

export class JsonValueScanner {
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** The value being cut, a part per line (the first from where the value starts); null between values. */
  private parts: { line: number; text: string }[] | null = null;
  private size = 0;
  /** 'array': before the opening [, inside it, after its closing ]. */
  private phase: 'before' | 'inside' | 'after' = 'before';
  private lastLine = 0;
  /** The last text fed was a piece of a line that goes on. */
  private midLine = false;

  constructor(private readonly mode: 'array' | 'sequence') {
    if (mode === 'sequence') this.phase = 'inside';
  }

  /** One line, or a piece of one (`partial`: the line goes on in the next feed). */
  feed(text: string, line: number, partial = false): ScannedValue[] {
    const out: ScannedValue[] = [];
    this.scanLine(text, line, out, partial);
    if (this.parts && this.size > MAX_VALUE) this.giveUp(out, 'unclosed');
    return out;
  }

  /** The end of the input: an unfinished value or an unclosed array is reported. */
  end(): ScannedValue[] {
    const out: ScannedValue[] = [];
    // A value that parses is complete (only the array's ] is missing); any other one is broken.
    while (this.parts) {
      if (this.depth === 0 && !this.inString && parses(this.parts.map((p) => p.text).join('\n'))) out.push(this.take(''));
      else this.giveUp(out, 'unclosed');
    }
    if (this.mode === 'array' && this.phase === 'inside') {
      out.push({ line: this.lastLine, raw: '', error: 'the array is not closed (missing ] at the end of the file)' });
    }
    return out;
  }

  private scanLine(text: string, line: number, out: ScannedValue[], partial = false): void {
    this.lastLine = line;
    let segment = 0; // where the current value's part of this line starts
    if (this.parts && !this.midLine) this.parts.push({ line, text: '' });
    this.midLine = partial;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) this.inString = false;
        continue;
      }
      if (this.phase === 'before') {
        if (c === OPEN_BRACKET) this.phase = 'inside';
        else if (!isSpace(c)) {
          out.push({ line, raw: text, error: 'expected a JSON array starting with [' });
          return;
        }
        continue;
      }
      if (this.phase === 'after') {
        if (isSpace(c)) continue;
        // Text after the ]: that ] was a stray one inside the array, which goes on.
        this.phase = 'inside';
        if (c === COMMA) continue;
      }
      if (this.depth === 0 && this.mode === 'array' && (c === COMMA || c === CLOSE_BRACKET)) {
        if (this.parts) out.push(this.take(text.slice(segment, i)));
        else if (c === COMMA) out.push({ line, raw: text, error: 'empty array element (a stray comma)' });
        if (c === CLOSE_BRACKET) this.phase = 'after';
        continue;
      }
      if (!this.parts) {
        if (isSpace(c)) continue;
        this.parts = [{ line, text: '' }];
        this.size = 0;
        segment = i;
      }
      if (c === QUOTE) this.inString = true;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) this.depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (this.depth > 0) this.depth--; // a stray closer is left for the parser to report
        // A sequence's value ends where its nesting closes (a bare scalar: at the end of its line).
        if (this.mode === 'sequence' && this.depth === 0) out.push(this.take(text.slice(segment, i + 1)));
      }
    }
    if (this.parts) {
      if (this.mode === 'sequence' && this.depth === 0 && !this.inString && !partial) out.push(this.take(text.slice(segment)));
      else {
        this.parts[this.parts.length - 1].text += text.slice(segment);
        this.size += text.length - segment;
        // A JSON string holds no raw line break: a line ending inside one has a broken quote.
        if (this.inString && !partial) this.giveUp(out, 'broken string');
      }
    }
  }

  /**
   * Reports a broken value and scans what follows it again, so the next values are found; nothing
   * is dropped (the cut-off text is the report's raw text). Where the value is cut: after a broken
   * quote, at the end of its line (unless that makes it huge: a one-line array); when its brackets
   * never close, in an array at the first comma followed by the value's own opening bracket
   * (outside strings if there is one, else anywhere), in a sequence after its first line.
   */
  private giveUp(out: ScannedValue[], why: 'broken string' | 'unclosed'): void {
    const parts = this.parts ?? [];
    const lastGoesOn = this.midLine;
    this.parts = null;
    this.midLine = false;
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    const whole = parts.map((p) => p.text).join('\n');
    let cut = -1;
    if (why === 'broken string' && whole.length <= RAW_CAP) cut = whole.length;
    else if (this.mode === 'array') {
      cut = nextValueStart(whole, why === 'broken string');
      if (cut < 0 && why === 'unclosed') cut = nextValueStart(whole, true);
    } else if (why === 'unclosed') cut = parts[0].text.length;
    if (cut < 0) cut = whole.length;
    let k = 0; // the part where the cut falls, and the offset in it
    let at = cut;
    while (k < parts.length - 1 && at > parts[k].text.length) at -= parts[k++].text.length + 1;
    const raw = this.mode === 'array' ? whole.slice(0, cut).replace(/,\s*$/, '') : whole.slice(0, cut);
    out.push({ line: parts[0].line, raw, error: parseError(raw) });
    if (cut >= whole.length) return;
    const skip = whole.charCodeAt(cut) === COMMA ? 1 : 0;
    const rest = [{ line: parts[k].line, text: parts[k].text.slice(at + skip) }, ...parts.slice(k + 1)];
    rest.forEach((part, i) => this.scanLine(part.text, part.line, out, lastGoesOn && i === rest.length - 1));
  }

  private take(lastPart: string): ScannedValue {
    const parts = this.parts ?? [];
    const line = parts[0]?.line ?? this.lastLine;
    parts[parts.length - 1].text += lastPart;
    this.parts = null;
    this.depth = 0;
    const text = parts.map((p) => p.text).join('\n').trimEnd();
    if (!text) return { line, raw: text, error: 'empty array element (a stray comma)' };
    return { line, text };
  }
}

/** Where, in an unclosed array element, the next element seems to start: its separating comma, or -1. */
function nextValueStart(text: string, ignoreStrings: boolean): number {
  const open = text.charCodeAt(0);
  let inString = false;
  for (let i = 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE && !ignoreStrings) inString = true;
    else if (c === COMMA) {
      let j = i + 1;
      while (j < text.length && isSpace(text.charCodeAt(j))) j++;
      if (j < text.length && (text.charCodeAt(j) === open || (open !== OPEN_BRACE && open !== OPEN_BRACKET))) return i;
    }
  }
  return -1;
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function parseError(text: string): string {
  try {
    JSON.parse(text);
    return 'a value that is not closed';
  } catch (err) {
    return (err as Error).message;
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
