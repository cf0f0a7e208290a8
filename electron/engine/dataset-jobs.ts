// Engine handlers of the datasets workbench: samples tokenized exactly as the trainer sees them
// (tokenizeForTraining: chat template + tokenizer + loss weights), for token counts and the mask
// preview. A tokenizer-only load is enough and leaves the chat model alone; the last one is cached
// because validation asks for the same model batch after batch.
import type { DatasetEngineMethods, TokenizedSampleDetail, TokenizeSamplesParams } from '../shared/engine-protocol-datasets';
import { chatml, jinjaTemplate, llama2Template, llama3Template, templateForModel, type ChatTemplate } from '../core/chat/templates';
import type { NativeModel, NativeTokenizer } from './addon';
import type { EngineContext, EngineHandlers } from './engine-context';
import { tokenizeForTraining } from './training-rows';

const BUILT_IN: Record<string, ChatTemplate> = { llama2: llama2Template, llama3: llama3Template, chatml };

interface Loaded {
  key: string;
  tokenizer: NativeTokenizer | null;
  metadata: Record<string, unknown>;
}

export function datasetJobs(ctx: EngineContext): EngineHandlers<keyof DatasetEngineMethods> {
  let last: Loaded | undefined;

  async function load(p: TokenizeSamplesParams): Promise<Loaded> {
    const key = JSON.stringify([p.modelPath, p.tokenizerPath]);
    if (last?.key === key) return last;
    // The model file's metadata says which template and whether BOS is added; a bare tokenizer file has none.
    const metadata = await ctx.addon
      .readModelInfo(p.modelPath, p.tokenizerPath ? { tokenizerPath: p.tokenizerPath } : undefined)
      .then((info) => info.metadata as Record<string, unknown>)
      .catch(() => ({}));
    let tokenizer: NativeTokenizer | null = null;
    try {
      tokenizer = await ctx.addon.loadTokenizer(p.tokenizerPath ?? p.modelPath);
    } catch (err) {
      // Formats loadTokenizer can't open on their own (an HF folder) go through the chat slot's model.
      if (Object.keys(metadata).length === 0) throw err;
    }
    return (last = { key, tokenizer, metadata });
  }

  function tokenizeAll(p: TokenizeSamplesParams, tok: NativeModel | NativeTokenizer, metadata: Record<string, unknown>) {
    const template = p.template ? (BUILT_IN[p.template] ?? jinjaTemplate(p.template, 'Jinja template (given)')) : templateForModel(metadata);
    const rows = p.samples.map((sample): TokenizedSampleDetail => {
      try {
        const out = tokenizeForTraining(tok, sample, p.mode, { template, metadata, dateString: p.dateString });
        return p.detail ? { count: out.tokens.length, tokens: out.tokens, pieces: out.pieces, weights: out.weights } : { count: out.tokens.length };
      } catch (err) {
        return { count: 0, error: (err as Error).message };
      }
    });
    return { template: template.name, rows };
  }

  return {
    tokenizeSamples: async (p) => {
      const { tokenizer, metadata } = await load(p);
      if (tokenizer) return tokenizeAll(p, tokenizer, metadata);
      return ctx.serialized(async () => {
        const { model } = await ctx.slot.acquire(p.modelPath, p.tokenizerPath);
        return tokenizeAll(p, model, metadata);
      });
    },
  };
}
