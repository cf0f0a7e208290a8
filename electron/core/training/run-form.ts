// From the run form (what the UI sends) to what the engine trains with: the RunConfig (preset,
// then defaults of run-config.ts, then the form's own fields), the model's shape for the memory
// estimate, and the hash of the chat template the rows are rendered with.
import { createHash } from 'node:crypto';
import os from 'node:os';
import type { ModelRecord } from '../../shared/contract';
import type { RunFormConfig } from '../../shared/contract-runs';
import { PRESETS } from './presets';
import { makeRunConfig, type RunConfig } from './run-config';
import type { MemorySettings, ModelShape } from './run-memory';

/** Compute threads of a run: all cores (as `paddock train`, capped at 16: more only contend). */
export const defaultTrainThreads = (): number => Math.max(1, Math.min(os.cpus().length, 16));

/** The RunConfig of a form; `data` is the materialized rows file. Throws RangeError on a bad field. */
export function resolveRunConfig(form: RunFormConfig, model: Pick<ModelRecord, 'path' | 'tokenizerPath'>, data: string): RunConfig {
  return makeRunConfig({
    model: model.path,
    ...(model.tokenizerPath ? { tokenizer: model.tokenizerPath } : {}),
    data,
    // The materialized file is OpenAI chat JSONL, or completions / text for rows of those kinds: detected.
    format: 'auto',
    method: form.method ?? (form.preset ? PRESETS[form.preset].config.method : undefined) ?? 'lora',
    preset: form.preset,
    rank: form.rank,
    alpha: form.alpha,
    dropout: form.dropout,
    targets: form.targets,
    lr: form.lr,
    schedule: form.schedule,
    warmup: form.warmup,
    warmupRatio: form.warmupRatio,
    epochs: form.epochs,
    steps: form.steps,
    batch: form.batch,
    maxSeqLen: form.maxSeqLen,
    pack: form.pack,
    checkpointActivations: form.checkpointActivations,
    mask: form.mask,
    seed: form.seed,
    saveEvery: form.saveEvery,
    threads: form.threads ?? defaultTrainThreads(),
    device: form.device,
  });
}

export const memorySettings = (c: RunConfig): MemorySettings => ({
  method: c.method,
  rank: c.rank,
  targets: c.targets,
  maxSeqLen: c.maxSeqLen,
  checkpointActivations: c.checkpointActivations,
  threads: c.threads,
});

/**
 * The shape the trainer sees. The FFN width comes from the file's metadata when it says it
 * (GGUF `<arch>.feed_forward_length`), else from the parameter count (every other term is known).
 */
export function modelShape(m: ModelRecord): ModelShape {
  const dim = m.embeddingLength;
  const kvd = (dim / m.headCount) * m.headCountKv;
  const fromMeta = Number(m.metadata[`${m.architecture}.feed_forward_length`]);
  let hidden = Number.isFinite(fromMeta) && fromMeta > 0 ? fromMeta : 0;
  if (!hidden) {
    // params = vocab*dim*(1 tied, 2 untied) + layers*(2 dim + 2 dim^2 + 2 dim kvd + 3 dim hidden) + dim:
    // the head's tying is unknown here, so take the reading that gives a whole FFN width.
    const widths = [1, 2].map((heads) => {
      const perLayer = (m.parameterCount - m.vocabSize * dim * heads - dim) / m.layerCount;
      return (perLayer - 2 * dim - 2 * dim * dim - 2 * dim * kvd) / (3 * dim);
    });
    const whole = widths.filter((w) => w > 0).sort((a, b) => Math.abs(a - Math.round(a)) - Math.abs(b - Math.round(b)));
    hidden = Math.max(1, Math.round(whole[0] ?? 4 * dim));
  }
  return {
    dim,
    hidden,
    layers: m.layerCount,
    heads: m.headCount,
    kvHeads: m.headCountKv,
    vocab: m.vocabSize,
    parameterCount: m.parameterCount,
    fileBytes: m.fileBytes,
    tensorType: m.tensorType,
  };
}

/** sha256 of the chat template the rows are rendered with: its Jinja source, else its name (built-in templates are code). */
export function templateHash(m: Pick<ModelRecord, 'chatTemplate'>): string {
  return createHash('sha256').update(m.chatTemplate.source ?? `builtin:${m.chatTemplate.name}`).digest('hex');
}
