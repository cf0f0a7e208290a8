// Prompt parts -> token ids, with special tokens parsed only in template text (issue 3: "special
// tokens parsed in chat text, never in user text").
//
// Like llama.cpp's tokenizer: the text is cut at the special tokens the template wrote, and each
// run of ordinary text between them (template and message text together) is encoded as one
// string without special-token parsing. Encoding template and content pieces separately instead
// would change the tokens at their seams (SentencePiece's dummy prefix, merges across the seam).
import type { PromptPart } from '../shared/engine-protocol';

/** The tokenizer calls this needs: a NativeModel or a NativeTokenizer, adapted. */
export interface PromptTokenizer {
  readonly bosId: number;
  readonly eosId: number;
  encode(text: string, parseSpecial: boolean): Int32Array;
  /** Control tokens print nothing: that is how the special ones are told apart. */
  tokenBytes(id: number): Uint8Array;
  tokenText(id: number): string;
}

export interface PromptTokens {
  tokens: Int32Array;
  /** Tokens to keep when the prompt is too long: BOS and the system turn. */
  keep: number;
  /** Offsets where an older turn can be cut off (the template text closing the previous turn and opening the next). */
  turnStarts: number[];
}

type Fragment = string | number;

/** Template text split into ordinary text and the ids of the special tokens written in it. */
function splitSpecials(tok: PromptTokenizer, text: string): Fragment[] {
  const out: Fragment[] = [];
  let cursor = 0;
  for (const id of tok.encode(text, true)) {
    if (tok.tokenBytes(id).length !== 0) continue; // an ordinary token: part of the text runs
    const spelled = tok.tokenText(id);
    const at = spelled ? text.indexOf(spelled, cursor) : -1;
    if (at < 0) continue; // not spelled out in the text (can't be, but then it stays text)
    out.push(text.slice(cursor, at), id);
    cursor = at + spelled.length;
  }
  out.push(text.slice(cursor));
  return out;
}

export function tokenizePrompt(tok: PromptTokenizer, parts: PromptPart[]): PromptTokens {
  const ids: number[] = [];
  let pending = '';
  // Where an old turn may be cut: at the first special token after a message's content (the
  // template closing that turn), the only places where token offsets don't depend on merges.
  // After the system message that seam ends the part always kept.
  let nextSeam: 'keep' | 'turn' | null = null;
  let keep = 0;
  const turnStarts: number[] = [];
  let contents = 0;
  let seamOfLastContent = -1; // the content count when the newest turn seam was recorded, -1 after a newer content
  const pushId = (id: number) => {
    if (pending) ids.push(...tok.encode(pending, false));
    pending = '';
    if (nextSeam === 'keep') keep = ids.length;
    else if (nextSeam === 'turn') {
      turnStarts.push(ids.length);
      seamOfLastContent = contents;
    }
    nextSeam = null;
    ids.push(id);
  };
  for (const part of parts) {
    if (part.kind === 'bos') pushId(tok.bosId);
    else if (part.kind === 'eos') pushId(tok.eosId);
    else if (part.kind === 'template') {
      for (const f of splitSpecials(tok, part.text)) {
        if (typeof f === 'number') pushId(f);
        else pending += f;
      }
    } else {
      pending += part.text;
      nextSeam = part.role === 'system' ? 'keep' : 'turn';
      contents++;
      seamOfLastContent = -1;
    }
  }
  if (pending) ids.push(...tok.encode(pending, false));
  // One BOS in front: the template's own, or the engine's when the template printed none.
  const tokens = Int32Array.from(ids[0] === tok.bosId ? ids : [tok.bosId, ...ids]);
  const shift = tokens.length - ids.length;
  // Cutting at the seam after the newest message would drop the message being answered.
  if (seamOfLastContent === contents) turnStarts.pop();
  return { tokens, keep: keep + shift, turnStarts: turnStarts.map((t) => t + shift) };
}
