// The generation loop: TypeScript drives, one native decode step per token, so a stop request
// lands between steps and every token streams out as soon as it is sampled.
import type { GenerationStats } from '../shared/contract';
import type { GenerationSettings } from '../shared/engine-protocol';
import type { Addon, NativeContext, NativeModel } from './addon';
import { StopStringFilter } from './stop-strings';
import { TokenTextStream } from './token-text';

export interface GenerateOptions {
  settings: GenerationSettings;
  onText?: (delta: string) => void;
  shouldStop?: () => boolean;
  /** Pause between steps (testing aid: lets a test kill the engine mid-reply). */
  stepDelayMs?: number;
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

  reset(): void {
    this.ctx.truncate(0);
    this.tokens = [];
  }
}

/** Keeps BOS and the newest tokens when a prompt does not fit, leaving room for the reply. */
export function fitPrompt(tokens: Int32Array, contextLength: number, maxTokens: number, bosId: number): Int32Array {
  const room = Math.max(1, contextLength - Math.min(maxTokens, Math.floor(contextLength / 2)));
  if (tokens.length <= room) return tokens;
  const hasBos = tokens[0] === bosId;
  const tail = tokens.subarray(tokens.length - (room - (hasBos ? 1 : 0)));
  return hasBos ? Int32Array.of(bosId, ...tail) : Int32Array.from(tail);
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
  const prompt = fitPrompt(promptTokens, contextLength, settings.maxTokens, info.bosId);
  const sampler = addon.createSampler({
    temperature: settings.temperature,
    topP: settings.topP,
    topK: settings.topK,
    seed: settings.seed,
  });
  const text = new TokenTextStream(model, prompt[prompt.length - 1] === info.bosId);
  const stops = new StopStringFilter(settings.stop);
  const started = performance.now();
  let firstTokenAt = 0;
  let completion = 0;
  let stopReason: GenerationStats['stopReason'] = 'max_tokens';

  let logits = await cache.prefill(prompt);
  while (completion < settings.maxTokens) {
    if (opts.shouldStop?.()) {
      stopReason = 'user_stop';
      break;
    }
    const token = sampler.sample(logits);
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
      stopReason = 'context_full';
      break;
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
    },
  };
}
