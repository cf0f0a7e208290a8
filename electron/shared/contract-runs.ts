// Fine-tuning runs' part of the contract (spread into contract.ts): the run form's config, the
// memory check before start, a queue of runs on the engine (pause / resume / cancel, resume after
// a crash), per-step metrics for the live charts, export, and compare (base vs fine-tuned).
import { z } from 'zod';
import { MaskMode } from './contract-datasets';

export const TrainMethod = z.enum(['lora', 'qlora', 'full']);
export const LoraTarget = z.enum(['q', 'k', 'v', 'o', 'gate', 'up', 'down']);
export const RunStatus = z.enum(['queued', 'running', 'paused', 'done', 'cancelled', 'interrupted', 'failed']);
export type RunStatus = z.output<typeof RunStatus>;

/** What the run form sends. Fields left out take the preset's value, then the defaults of core/training/run-config. */
export const RunFormConfig = z.object({
  name: z.string().optional(),
  modelId: z.string(),
  datasetId: z.string(),
  /** The dataset revision to pin; default: the head at creation. */
  datasetRevision: z.number().int().optional(),
  /** Rows the run trains on; the validation split (when it has rows) gives the validation loss. */
  split: z.enum(['train', 'all']).default('train'),
  preset: z.enum(['llama2-sft', 'llama-pretrain', 'alpaca', 'lora-default', 'qlora-paper']).optional(),
  method: TrainMethod,
  rank: z.number().int().min(1).max(1024).optional(),
  alpha: z.number().positive().optional(),
  dropout: z.number().min(0).max(0.99).optional(),
  targets: z.array(LoraTarget).min(1).optional(),
  lr: z.number().positive().max(1).optional(),
  schedule: z.enum(['constant', 'linear', 'cosine']).optional(),
  warmup: z.number().int().min(0).optional(),
  warmupRatio: z.number().min(0).max(1).optional(),
  epochs: z.number().int().min(1).optional(),
  steps: z.number().int().min(1).optional(),
  /** Rows per optimizer step (gradients accumulated over them). */
  batch: z.number().int().min(1).optional(),
  maxSeqLen: z.number().int().min(8).optional(),
  pack: z.boolean().optional(),
  checkpointActivations: z.boolean().optional(),
  mask: MaskMode.optional(),
  seed: z.number().int().min(0).optional(),
  saveEvery: z.number().int().min(1).optional(),
  /** Validation loss every K steps (0 = only at checkpoints). */
  evalEvery: z.number().int().min(0).optional(),
  threads: z.number().int().min(1).optional(),
  /** Where the trainer runs (default the CPU); the memory check then uses that device's free memory. */
  device: z.enum(['cpu', 'cuda']).optional(),
});
export type RunFormConfig = z.output<typeof RunFormConfig>;

export const RunMemoryEstimate = z.object({
  /** Bytes the run needs: weights, trainable parameters + grads + AdamW moments, activations. */
  total: z.number(),
  breakdown: z.record(z.string(), z.number()),
  /** Bytes the device can give (CPU: available system memory). */
  available: z.number(),
  device: z.string(),
  fits: z.boolean(),
  /** When it does not fit: concrete changes that would make it fit, each with its new total. */
  suggestions: z.array(z.object({ change: z.string(), patch: RunFormConfig.partial(), total: z.number() })),
});
export type RunMemoryEstimate = z.output<typeof RunMemoryEstimate>;

export const StepMetric = z.object({
  step: z.number().int(),
  loss: z.number(),
  valLoss: z.number().nullable(),
  lr: z.number(),
  gradNorm: z.number(),
  tokensPerS: z.number(),
  /** ms since the epoch. */
  at: z.number(),
});
export type StepMetric = z.output<typeof StepMetric>;

export const RunCheckpoint = z.object({ step: z.number().int(), path: z.string(), valLoss: z.number().nullable(), perplexity: z.number().nullable(), at: z.string() });

export const RunSummary = z.object({
  id: z.string(),
  name: z.string(),
  status: RunStatus,
  form: RunFormConfig,
  modelId: z.string().nullable(),
  datasetId: z.string().nullable(),
  /** `${datasetId}@${revision}`, pinned at creation. */
  datasetVersion: z.string(),
  /** sha256 of the chat template text the rows were rendered with. */
  templateHash: z.string().nullable(),
  runDir: z.string(),
  step: z.number().int(),
  totalSteps: z.number().int().nullable(),
  lastLoss: z.number().nullable(),
  lastValLoss: z.number().nullable(),
  etaSeconds: z.number().nullable(),
  checkpoints: z.array(RunCheckpoint),
  error: z.string().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});
export type RunSummary = z.output<typeof RunSummary>;

const RunId = z.object({ runId: z.string() });

export const runsContract = {
  'runs.presets': {
    request: z.object({}),
    response: z.array(z.object({ name: z.string(), description: z.string(), config: RunFormConfig.partial() })),
  },
  'runs.estimate': { request: RunFormConfig, response: RunMemoryEstimate },
  /** Queues a run; refused (BAD_REQUEST, with the suggestions in the message) when it would not fit. */
  'runs.create': { request: RunFormConfig, response: RunSummary },
  'runs.list': { request: z.object({}), response: z.array(RunSummary) },
  'runs.get': { request: RunId, response: RunSummary },
  'runs.metrics': { request: RunId.extend({ sinceStep: z.number().int().default(0) }), response: z.array(StepMetric) },
  'runs.logs': { request: RunId, response: z.array(z.string()) },
  'runs.pause': { request: RunId, response: RunSummary },
  /** Continues a paused or interrupted run from its last checkpoint (same curve). */
  'runs.resume': { request: RunId, response: RunSummary },
  'runs.cancel': { request: RunId, response: RunSummary },
  'runs.delete': { request: RunId, response: z.object({ ok: z.literal(true) }) },
  /** Writes the adapter or merged model; GGUF exports carry the trained template + EOS and pass a smoke chat first. */
  'runs.export': {
    request: RunId.extend({ format: z.enum(['peft', 'gguf-lora', 'gguf-merged']), type: z.enum(['f16', 'q8_0', 'q4_k_m']).optional(), path: z.string().optional() }),
    response: z.object({ path: z.string(), smokeChat: z.string().nullable(), modelfile: z.string().nullable() }),
  },

  /** One prompt to the base and to the run's adapter on the same loaded base; tokens stream as compare.token. */
  'compare.send': {
    request: z.object({ compareId: z.string(), runId: z.string(), prompt: z.string().min(1), systemPrompt: z.string().default(''), maxTokens: z.number().int().min(1).max(4096).default(128), seed: z.number().int().min(0).default(0), temperature: z.number().min(0).max(5).default(0.7) }),
    response: z.object({ base: z.string(), tuned: z.string() }),
  },
  /** A blind A/B choice, stored as a preference record (chosen / rejected). */
  'compare.rate': {
    request: z.object({ runId: z.string(), prompt: z.string(), systemPrompt: z.string().default(''), chosen: z.string(), rejected: z.string(), chosenSide: z.enum(['base', 'tuned']), strength: z.enum(['significantly', 'better', 'slightly', 'negligibly']).default('better') }),
    response: z.object({ id: z.string() }),
  },
  'compare.preferences': {
    request: z.object({ runId: z.string().optional() }),
    response: z.array(z.object({ id: z.string(), runId: z.string(), prompt: z.string(), chosen: z.string(), rejected: z.string(), chosenSide: z.enum(['base', 'tuned']), strength: z.string(), createdAt: z.string() })),
  },
} as const;

export const runsEvents = {
  'runs.status': z.object({ run: RunSummary }),
  'runs.step': z.object({ runId: z.string(), metric: StepMetric, totalSteps: z.number().int(), etaSeconds: z.number().nullable() }),
  'runs.log': z.object({ runId: z.string(), line: z.string() }),
  'compare.token': z.object({ compareId: z.string(), side: z.enum(['base', 'tuned']), text: z.string() }),
} as const;
