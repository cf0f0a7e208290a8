// The generation loop: TypeScript drives, one native decode step per token, so a stop request
// lands between steps and every token streams out as soon as it is sampled.
import type { GenerationStats } from '../shared/contract';
import type { GenerationSettings } from '../shared/engine-protocol';
import type { Addon, NativeContext, NativeModel } from './addon';
import { resolveLogitBias } from './logit-bias';
import { StopStringFilter } from './stop-strings';
import { TokenTextStream } from './token-text';

export interface GenerateOptions {
  settings: GenerationSettings;
  onText?: (delta: string) => void;
  shouldStop?: () => boolean;
  /** Pause between steps (testing aid: lets a test kill the engine mid-reply). */
  stepDelayMs?: number;
  /** Where the prompt's turns are (from tokenizePrompt): what to keep and where old turns may be cut. */
  layout?: PromptLayout;
}

export interface PromptLayout {
  /** Leading tokens always kept (BOS and the system turn). */
  keep: number;
  /** Offsets, ascending, where older turns can be cut off. */
  turnStarts: number[];
}

/**
 * Keeps a context's KV cache in step with the tokens it holds, so a new prompt that shares a
 * prefix with the last one (the next chat turn) only evaluates the new tokens.
 */
export class CachedContext {
  private tokens: number[] = [];
  constructor(readonly ctx: NativeContext) {}

  /** Evaluates `prompt` reusing the common prefix; returns the last position's logits. */
  async prefill(prompt: Int32Array): Promise<Float32Array> {
    let common = 0;
    const max = Math.min(this.tokens.length, prompt.length - 1); // re-run at least the last token
    while (common < max && this.tokens[common] === prompt[common]) common++;
    this.ctx.truncate(common);
    this.tokens.length = common;
    const logits = await this.ctx.decode(prompt.subarray(common));
    for (let i = common; i < prompt.length; i++) this.tokens.push(prompt[i]);
    return logits;
  }

  async step(token: number): Promise<Float32Array> {
    const logits = await this.ctx.decode(Int32Array.of(token));
    this.tokens.push(token);
    return logits;
  }

  get position(): number {
    return this.tokens.length;
  }

  /**
   * Drops `discard` tokens after the first `keep` from the KV cache (the rest slide down), so
   * generation can go on in a full context. False when the native context can't shift.
   */
  shift(keep: number, discard: number): boolean {
    if (typeof this.ctx.shift !== 'function') return false;
    this.ctx.shift(keep, discard);
    this.tokens.splice(keep, discard);
    return true;
  }

  reset(): void {
    this.ctx.truncate(0);
    this.tokens = [];
  }
}

/**
 * Makes a prompt fit the context with room for the reply: keeps the first `layout.keep` tokens
 * (BOS and the system turn) and drops the oldest whole turns; when even the newest turn alone is
 * too long, keeps its newest tokens. Returns the tokens, how many were dropped and how many
 * leading tokens were kept (what a context shift must keep too).
 */
export function fitPrompt(
  tokens: Int32Array,
  contextLength: number,
  maxTokens: number,
  bosId: number,
  layout?: PromptLayout,
): { tokens: Int32Array; dropped: number; keep: number } {
  const room = Math.max(1, contextLength - Math.min(maxTokens, Math.floor(contextLength / 2)));
  const bosOnly = tokens[0] === bosId ? 1 : 0;
  let keep = Math.min(layout?.keep ?? bosOnly, tokens.length);
  if (keep >= room) keep = bosOnly; // a system prompt longer than the room can't be kept
  if (tokens.length <= room) return { tokens, dropped: 0, keep };
  const cut = layout?.turnStarts.find((c) => c >= keep && keep + tokens.length - c <= room);
  const from = cut ?? tokens.length - (room - keep);
  const out = new Int32Array(keep + tokens.length - from);
  out.set(tokens.subarray(0, keep));
  out.set(tokens.subarray(from), keep);
  return { tokens: out, dropped: tokens.length - out.length, keep };
}

export async function generate(
  addon: Addon,
  model: NativeModel,
  cache: CachedContext,
  promptTokens: Int32Array,
  opts: GenerateOptions,
): Promise<{ text: string; stats: GenerationStats }> {
  const { settings } = opts;
  const info = model.info;
  const contextLength = cache.ctx.contextLength;
  const policy = settings.contextPolicy ?? 'truncate';
  const { tokens: prompt, dropped, keep } = fitPrompt(promptTokens, contextLength, settings.maxTokens, info.bosId, opts.layout);
  const penaltyLastN = settings.penaltyLastN ?? 64;
  const sampler = addon.createSampler({
    temperature: settings.temperature,
    topP: settings.topP,
    topK: settings.topK,
    minP: settings.minP ?? 0,
    repeatPenalty: settings.repeatPenalty ?? 1,
    frequencyPenalty: settings.frequencyPenalty ?? 0,
    presencePenalty: settings.presencePenalty ?? 0,
    penaltyLastN,
    logitBias: resolveLogitBias(
      { vocabSize: info.vocabSize, encode: (t, special) => model.tokenize(t, false, special) },
      settings.logitBias ?? [],
    ),
    seed: settings.seed,
  });
  // The penalties look back over the prompt too (as llama.cpp's do).
  for (const t of prompt.subarray(Math.max(0, prompt.length - penaltyLastN))) sampler.accept(t);
  const text = new TokenTextStream(model, prompt[prompt.length - 1] === info.bosId);
  const stops = new StopStringFilter(settings.stop);
  const started = performance.now();
  let firstTokenAt = 0;
  let completion = 0;
  let stopReason: GenerationStats['stopReason'] = 'max_tokens';
  let contextShifts = 0;
  let shiftedTokens = 0;

  let logits = await cache.prefill(prompt);
  while (completion < settings.maxTokens) {
    if (opts.shouldStop?.()) {
      stopReason = 'user_stop';
      break;
    }
    const token = sampler.sample(logits);
    sampler.accept(token);
    if (completion === 0) firstTokenAt = performance.now();
    completion++;
    // End of generation: EOS, Llama 3's <|eot_id|> and friends (isEog), and BOS too, as llama2.c
    // does: its models mark a story's end by starting the next one.
    if (model.isEog(token) || token === info.bosId) {
      stopReason = 'eos';
      break;
    }
    const visible = stops.push(text.push(token));
    if (visible) opts.onText?.(visible);
    if (stops.stopped) {
      stopReason = 'stop_string';
      break;
    }
    if (completion >= settings.maxTokens) break;
    if (cache.position >= contextLength) {
      // Shift: forget the oldest half of what follows the kept prefix (llama.cpp's context shift).
      const discard = Math.floor((cache.position - keep) / 2);
      if (policy !== 'shift' || discard < 1 || !cache.shift(keep, discard)) {
        stopReason = 'context_full';
        break;
      }
      contextShifts++;
      shiftedTokens += discard;
    }
    if (opts.stepDelayMs) await new Promise((r) => setTimeout(r, opts.stepDelayMs));
    logits = await cache.step(token);
  }
  const rest = stops.flush(text.flush());
  if (rest) opts.onText?.(rest);

  const ended = performance.now();
  const decodeSeconds = (ended - (firstTokenAt || ended)) / 1000;
  return {
    text: stops.text,
    stats: {
      promptTokens: prompt.length,
      completionTokens: completion,
      timeToFirstTokenMs: firstTokenAt ? firstTokenAt - started : ended - started,
      tokensPerSecond: completion > 1 && decodeSeconds > 0 ? (completion - 1) / decodeSeconds : 0,
      seed: settings.seed,
      stopReason,
      contextPolicy: policy,
      truncatedTokens: dropped,
      contextShifts,
      shiftedTokens,
    },
  };
}
