// Engine handlers of Ghost Attention synthesis and the adherence eval: dialogues whose replies are
// sampled turn after turn with the loaded model (and an adapter on it), each reply generated in the
// context of the earlier ones, the KV cache reused across a dialogue's turns (its prefix is shared).
import type { GenerationSettings } from '../shared/engine-protocol';
import type { DialogueToSample, GattEngineMethods, SampleDialoguesProgress } from '../shared/engine-protocol-gatt';
import { renderPromptParts } from '../core/chat/prompt-parts';
import { templateForModel, type ChatTemplate, type TemplateMessage } from '../core/chat/templates';
import type { Addon, NativeModel } from './addon';
import { CachedContext, generate } from './generate';
import type { EngineContext, EngineHandlers } from './engine-context';
import { tokenizePrompt } from './prompt-tokens';

export interface SampleOptions {
  settings: GenerationSettings;
  /** Default: the model's own template (ChatML as text without one), as chat and training use. */
  template?: ChatTemplate;
  shouldStop?: () => boolean;
  onDialogue?: (done: number, total: number) => void;
}

/** Samples every dialogue's replies in order; stops between replies when asked (the finished dialogues are returned). */
export async function sampleDialogues(
  addon: Addon,
  model: NativeModel,
  cache: CachedContext,
  dialogues: DialogueToSample[],
  opts: SampleOptions,
): Promise<{ replies: string[][]; cancelled: boolean }> {
  const template = opts.template ?? templateForModel(model.info.metadata);
  const tok = {
    bosId: model.info.bosId,
    eosId: model.info.eosId,
    encode: (text: string, special: boolean) => model.tokenize(text, false, special),
    tokenBytes: (id: number) => model.tokenBytes(id),
    tokenText: (id: number) => model.tokenText(id),
  };
  const stop = [...new Set([...opts.settings.stop, ...template.stopStrings])];
  const replies: string[][] = [];
  for (const [i, d] of dialogues.entries()) {
    const messages: TemplateMessage[] = d.system ? [{ role: 'system', content: d.system }] : [];
    const out: string[] = [];
    for (const [k, user] of d.users.entries()) {
      if (opts.shouldStop?.()) return { replies, cancelled: true };
      messages.push({ role: 'user', content: user });
      const { tokens, ...layout } = tokenizePrompt(tok, renderPromptParts(template, messages, { addGenerationPrompt: true }));
      // A seed per reply: the same dialogue set samples the same replies whatever ran before.
      const settings = { ...opts.settings, stop, seed: (opts.settings.seed + 7919 * i + 104729 * k) >>> 0 };
      const { text } = await generate(addon, model, cache, tokens, { settings, layout });
      const reply = text.trim();
      out.push(reply);
      messages.push({ role: 'assistant', content: reply });
    }
    replies.push(out);
    opts.onDialogue?.(i + 1, dialogues.length);
  }
  return { replies, cancelled: false };
}

export function gattJobs(ctx: EngineContext): EngineHandlers<keyof GattEngineMethods> {
  const cancelled = new Set<string>();
  return {
    sampleDialogues: (p) =>
      ctx.serialized(async () => {
        const { model, cache } = await ctx.slot.acquire(p.modelPath, p.tokenizerPath, p.contextLength, p.threads);
        // The slot's adapter state is shared with chat and compare: go through it, never around it.
        await ctx.slot.useAdapter(p.adapterPath ?? null);
        try {
          return await sampleDialogues(ctx.addon, model, cache, p.dialogues, {
            settings: p.settings,
            shouldStop: () => cancelled.has(p.jobId),
            onDialogue: (done, total) => ctx.emit(p.jobId, { done, total, stage: p.stage } satisfies SampleDialoguesProgress),
          });
        } finally {
          cancelled.delete(p.jobId);
          // The slot is shared with chat: leave the base as it was found, and a clean cache.
          await ctx.slot.useAdapter(null);
          cache.reset();
        }
      }),
    cancelSampling: async (p) => {
      cancelled.add(p.jobId);
      return { ok: true };
    },
  };
}
