// Logit bias as people write it ("token or id: bias" lines in the Chat settings) -> the
// [id, bias] pairs the native sampler takes. An id is used as is; a text gets the bias on every
// token it encodes to (as llama.cpp's server does), with special tokens recognised, so
// "<|eot_id|>: ban" works. 'ban' is -Infinity.
import type { LogitBiasEntry } from '../shared/contract';

export interface BiasTokenizer {
  readonly vocabSize: number;
  encode(text: string, parseSpecial: boolean): Int32Array;
}

export function resolveLogitBias(tok: BiasTokenizer, entries: readonly LogitBiasEntry[]): [number, number][] {
  const out: [number, number][] = [];
  for (const e of entries) {
    const bias = e.bias === 'ban' ? -Infinity : e.bias;
    const key = e.token.trim();
    const ids = /^\d+$/.test(key) ? [Number(key)] : Array.from(tok.encode(e.token, true));
    for (const id of ids) {
      if (id >= tok.vocabSize) {
        throw Object.assign(new Error(`Logit bias: token id ${id} is outside the vocabulary (0..${tok.vocabSize - 1}).`), { code: 'INVALID_ARGUMENT' });
      }
      out.push([id, bias]);
    }
  }
  return out;
}
