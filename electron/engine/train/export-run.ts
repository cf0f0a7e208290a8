// Export of a trained run inside the engine process: the addon's exportTrainedRun writes the
// adapter or the merged model, then a smoke chat runs on what was written (the merged GGUF
// loaded on its own; an adapter attached to the base), greedy, with the run's template as parts.
// What the file says about its template and end-of-turn tokens is returned for the host to
// check against the run (a mismatch blocks the export there).
import type { ExportRunParams, ExportRunResult } from '../../shared/engine-protocol-train';
import type { Addon, NativeModel } from '../addon';
import { CachedContext, generate } from '../generate';
import { tokenizePrompt } from '../prompt-tokens';
import { RunDir } from './run-dir';
import { loadBaseModel } from './training-run';

function fileFacts(model: NativeModel): ExportRunResult['file'] {
  const t = model.info.metadata['tokenizer.chat_template'];
  return {
    chatTemplate: typeof t === 'string' ? t : null,
    bosId: model.info.bosId,
    eosId: model.info.eosId,
    eotId: model.info.eotId ?? -1,
    metadata: model.info.metadata,
  };
}

async function smokeChat(addon: Addon, model: NativeModel, smoke: NonNullable<ExportRunParams['smoke']>, attach?: string): Promise<string> {
  const ctx = model.createContext({ contextLength: 512, threads: 2 });
  try {
    if (attach) {
      if (!ctx.setAdapters) throw new Error('this engine build cannot attach LoRA adapters');
      ctx.setAdapters([{ adapter: await addon.loadAdapter(model, attach) }]);
    }
    const { tokens, ...layout } = tokenizePrompt(
      {
        bosId: model.info.bosId,
        eosId: model.info.eosId,
        encode: (text, special) => model.tokenize(text, false, special),
        tokenBytes: (id) => model.tokenBytes(id),
        tokenText: (id) => model.tokenText(id),
      },
      smoke.parts,
    );
    const r = await generate(addon, model, new CachedContext(ctx), tokens, {
      settings: { temperature: 0, topP: 1, topK: 0, maxTokens: smoke.maxTokens, seed: 0, stop: smoke.stop },
      layout,
    });
    return r.text;
  } finally {
    ctx.dispose();
  }
}

export async function exportRun(addon: Addon, p: ExportRunParams): Promise<ExportRunResult> {
  const dir = new RunDir(p.runDir);
  const config = dir.readConfig();
  if (!dir.hasCheckpoint()) throw new Error(`${dir.checkpointFile}: the run has no checkpoint yet (nothing trained to export)`);
  const base = await loadBaseModel(addon, config);
  try {
    const written = await addon.exportTrainedRun(base, dir.checkpointFile, { format: p.format, ...(p.format === 'gguf-merged' && { type: p.type ?? 'f16' }), out: p.out });
    if (p.format !== 'gguf-merged') {
      return { path: written, file: fileFacts(base), smokeChat: p.smoke ? await smokeChat(addon, base, p.smoke, written) : null };
    }
    const merged = await addon.loadModel(written);
    try {
      return { path: written, file: fileFacts(merged), smokeChat: p.smoke ? await smokeChat(addon, merged, p.smoke) : null };
    } finally {
      merged.dispose();
    }
  } finally {
    base.dispose();
  }
}
