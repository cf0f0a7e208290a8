// Training samples -> token ids and per-token loss weights, as the trainer sees them (engine side:
// it needs the model's tokenizer). Chat samples are rendered with the model's chat template and
// tokenized exactly as a chat prompt is (renderPromptParts + tokenizePrompt: special tokens parsed
// only in template text), so training and chat see the same tokens.
//
// Which tokens carry weight is found by tokenizing prefixes of the rendered parts: the tokens of
// "everything before reply k" agree with the whole conversation's tokens up to where reply k
// begins (SentencePiece may merge the template's space before a reply into its first word: that
// token then counts as the reply's, as in axolotl's Llama 2 masks), and "everything up to the
// end-of-turn marker after reply k" agrees up to where that marker ends.
import type { PromptPart } from '../shared/engine-protocol';
import { renderPromptParts } from '../core/chat/prompt-parts';
import { templateForModel, type ChatTemplate } from '../core/chat/templates';
import type { ChatSample, TrainingSample } from '../core/datasets/sample';
import type { MaskMode, TokenizedSample } from '../core/training/packing';
import type { NativeModel, NativeTokenizer } from './addon';
import { tokenizePrompt, type PromptTokenizer } from './prompt-tokens';

export interface TrainingTokenizeOptions {
  /** The chat template; default: the model's own (templateForModel), ChatML as text without one. */
  template?: ChatTemplate;
  /** Llama 3.1+ templates print a date; pin it for reproducible rows. */
  dateString?: string;
  /** The model file's metadata (chat template, add_bos) when `model` is a bare tokenizer. */
  metadata?: Record<string, unknown>;
}

export type TrainingTokens = TokenizedSample & { pieces: string[] };

/** Texts that close a turn when a template writes them (besides the tokenizer's EOS/EOT). */
const END_OF_TURN = ['<|eot_id|>', '<|eom_id|>', '<|im_end|>', '</s>', '<|end|>', '<end_of_turn>', '<|end_of_text|>'];

interface TrainingTokenizer extends PromptTokenizer {
  addBos: boolean;
  endOfTurn: string[];
  metadata: Record<string, unknown>;
}

function adapt(model: NativeModel | NativeTokenizer, given?: Record<string, unknown>): TrainingTokenizer {
  const isModel = 'info' in model;
  const eotId = isModel ? (model.info.eotId ?? -1) : model.eotId;
  const metadata: Record<string, unknown> = given ?? (isModel ? model.info.metadata : {});
  const tok: PromptTokenizer = isModel
    ? { bosId: model.info.bosId, eosId: model.info.eosId, encode: (t, s) => model.tokenize(t, false, s), tokenBytes: (id) => model.tokenBytes(id), tokenText: (id) => model.tokenText(id) }
    : { bosId: model.bosId, eosId: model.eosId, encode: (t, s) => model.encode(t, false, s), tokenBytes: (id) => model.tokenBytes(id), tokenText: (id) => model.tokenText(id) };
  const specials = [tok.eosId, eotId].filter((id) => id >= 0).map((id) => tok.tokenText(id));
  return {
    ...tok,
    // GGUF says whether BOS is prepended (llama.cpp's default for Llama vocabularies: yes).
    addBos: metadata['tokenizer.ggml.add_bos_token'] !== false,
    endOfTurn: [...new Set([...END_OF_TURN, ...specials])],
    metadata,
  };
}

export function tokenizeForTraining(
  model: NativeModel | NativeTokenizer,
  sample: TrainingSample,
  mask: MaskMode,
  opts: TrainingTokenizeOptions = {},
): TrainingTokens {
  const tok = adapt(model, opts.metadata);
  let out: TokenizedSample;
  if (sample.kind === 'text') {
    const ids = [...tok.encode(sample.text, false), tok.eosId];
    out = withBos(tok, ids, ids.map(() => 1));
  } else if (sample.kind === 'completion') {
    // The completion's first token may merge with the prompt's end: the prefix rule decides.
    const ids = [...tok.encode(sample.prompt + sample.completion, false), tok.eosId];
    const start = commonPrefix(Array.from(tok.encode(sample.prompt, false)), ids);
    out = withBos(tok, ids, ids.map((_, i) => (i >= start ? 1 : 0)));
  } else {
    out = chatTokens(tok, sample, mask, opts);
  }
  return { ...out, pieces: out.tokens.map((id) => tok.tokenText(id)) };
}

function withBos(tok: TrainingTokenizer, ids: number[], weights: number[]): TokenizedSample {
  return tok.addBos ? { tokens: [tok.bosId, ...ids], weights: [0, ...weights] } : { tokens: ids, weights };
}

function chatTokens(tok: TrainingTokenizer, sample: ChatSample, mask: MaskMode, opts: TrainingTokenizeOptions): TokenizedSample {
  const template = opts.template ?? templateForModel(tok.metadata);
  const parts = renderPromptParts(template, sample.messages, { addGenerationPrompt: false, dateString: opts.dateString });
  // The prefixes share every text run before their seam (runs end at special tokens): encode each once.
  const memo = new Map<string, Int32Array>();
  const cached: PromptTokenizer = {
    ...tok,
    encode: (text, special) => {
      const key = `${special ? 1 : 0}${text}`;
      let ids = memo.get(key);
      if (!ids) memo.set(key, (ids = tok.encode(text, special)));
      return ids;
    },
  };
  const encode = (p: PromptPart[]) => {
    const t = Array.from(tokenizePrompt(cached, p).tokens);
    // tokenizePrompt always starts with one BOS; drop it where the vocabulary adds none and the template wrote none.
    return !tok.addBos && parts[0]?.kind !== 'bos' && t[0] === tok.bosId ? t.slice(1) : t;
  };
  const tokens = encode(parts);
  const weights = tokens.map(() => 0);
  const replies = parts.flatMap((p, i) => (p.kind === 'content' && p.role === 'assistant' ? [i] : []));
  if (replies.length === 0 && sample.messages.some((m) => m.role === 'assistant' && m.content.trim())) {
    throw new Error(`the chat template "${template.name}" rewrites message text, so its replies can't be told apart from the prompt for the loss mask`);
  }
  const trained = trainedReplies(parts, replies, sample, mask);
  for (const p of trained) {
    const start = commonPrefix(encode(parts.slice(0, p)), tokens);
    const end = endOfReply(tok, parts, p, encode, tokens);
    for (let i = start; i < end; i++) weights[i] = 1;
  }
  return { tokens, weights };
}

/**
 * The reply parts that carry loss. `all`: every assistant reply whose message is not marked
 * train=false (OpenAI's "weight": 0). `last`: the final reply only. `gatt` (Llama 2 sec. 3.3): the
 * final reply only and every token before it at zero, earlier assistant replies included whatever
 * their flag says: a GAtt row (gatt-rows.ts) holds the instruction only in its system message and
 * replies that were sampled with the instruction repeated in every user turn, so earlier replies
 * are context, never targets. `last` and `gatt` honour train=false on the final reply (nothing trained).
 */
function trainedReplies(parts: PromptPart[], replies: number[], sample: ChatSample, mask: MaskMode): number[] {
  const trains = (p: number) => {
    const part = parts[p];
    return part.kind !== 'content' || sample.messages[part.message]?.train !== false;
  };
  if (mask === 'all') return replies.filter(trains);
  const final = replies.slice(-1);
  return final.filter(trains);
}

/** Token index just past reply `p` and the end-of-turn marker that closes it (when the template writes one before the next turn). */
function endOfReply(tok: TrainingTokenizer, parts: PromptPart[], p: number, encode: (p: PromptPart[]) => number[], tokens: number[]): number {
  let upTo: PromptPart[] = parts.slice(0, p + 1);
  for (let q = p + 1; q < parts.length; q++) {
    const part = parts[q];
    if (part.kind === 'eos') {
      upTo = parts.slice(0, q + 1);
      break;
    }
    if (part.kind !== 'template') break; // BOS or the next message: no marker closed this turn
    const at = firstEndOfTurn(tok, part.text);
    if (at >= 0) {
      upTo = [...parts.slice(0, q), { kind: 'template', text: part.text.slice(0, at) }];
      break;
    }
  }
  const prefix = encode(upTo);
  const same = commonPrefix(prefix, tokens);
  // The marker's last piece may have merged with the text after it: that whole token is the marker's.
  return same < prefix.length ? Math.min(same + 1, tokens.length) : same;
}

/** The offset just past the earliest end-of-turn marker in template text, or -1. */
function firstEndOfTurn(tok: TrainingTokenizer, text: string): number {
  let best = -1;
  for (const marker of tok.endOfTurn) {
    const i = text.indexOf(marker);
    if (i >= 0 && (best < 0 || i + marker.length < best)) best = i + marker.length;
  }
  return best;
}

function commonPrefix(a: number[], b: number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}
