// A training run's configuration: what `paddock train` takes and what run.json holds, so a run
// can be resumed (and read back by the UI) without its command line. Plain data, validated here.
import type { DatasetFormat } from '../datasets/sample';
import type { MaskMode } from './packing';
import { PRESETS, PresetName } from './presets';

export type TrainMethodName = 'lora' | 'qlora' | 'full';
export type ScheduleName = 'constant' | 'linear' | 'cosine';
export const LORA_TARGET_NAMES = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] as const;
export type LoraTargetName = (typeof LORA_TARGET_NAMES)[number];

export interface RunConfig {
  version: 1;
  model: string;
  tokenizer?: string;
  data: string;
  format: DatasetFormat;
  method: TrainMethodName;
  /** LoRA only. */
  rank: number;
  alpha: number;
  targets: LoraTargetName[];
  dropout: number;
  /** Optimizer steps; when absent, `epochs` passes over the rows decide. */
  steps?: number;
  epochs: number;
  /** Rows per optimizer step (gradient accumulation over them). */
  batch: number;
  lr: number;
  schedule: ScheduleName;
  /** Warmup steps; `warmupRatio` (a fraction of the total steps) wins when set. */
  warmup: number;
  warmupRatio?: number;
  /** The decay's floor as a fraction of the peak lr (LLaMA: 0.1). */
  finalRatio: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Global-norm clipping; 0 = none. */
  clipNorm: number;
  mask: MaskMode;
  /** Pack several samples per row (attention and positions stay per sample). */
  pack: boolean;
  seed: number;
  /** Checkpoint every K steps (and always at the end). */
  saveEvery: number;
  maxSeqLen: number;
  threads: number;
  checkpointActivations: boolean;
  preset?: PresetName;
  /** Where the trainer runs; absent = the CPU (runs from before issue 7 and the CLI default). */
  device?: 'cpu' | 'cuda' | 'auto';
}

export const RUN_DEFAULTS: Omit<RunConfig, 'model' | 'data' | 'method' | 'alpha' | 'threads'> = {
  version: 1,
  format: 'auto',
  rank: 8,
  targets: [...LORA_TARGET_NAMES],
  dropout: 0,
  epochs: 1,
  batch: 1,
  lr: 2e-4,
  schedule: 'constant',
  warmup: 0,
  finalRatio: 0,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0,
  clipNorm: 1.0,
  mask: 'all',
  pack: true,
  seed: 0,
  saveEvery: 50,
  maxSeqLen: 512,
  checkpointActivations: false,
};

export type RunConfigInput = Partial<RunConfig> & Pick<RunConfig, 'model' | 'data' | 'method' | 'threads'>;

/** Defaults, then the preset's values, then what was given explicitly; alpha defaults to 2 x rank. */
export function makeRunConfig(input: RunConfigInput): RunConfig {
  const preset = input.preset ? PRESETS[input.preset].config : {};
  const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as RunConfigInput;
  const merged = { ...RUN_DEFAULTS, ...preset, ...defined } as RunConfig;
  if (merged.alpha === undefined) merged.alpha = 2 * merged.rank;
  validateRunConfig(merged);
  return merged;
}

/** Throws a RangeError naming the first bad field. */
export function validateRunConfig(c: RunConfig): void {
  const bad = (field: string, want: string, got: unknown) => {
    throw new RangeError(`${field} must be ${want}, got ${JSON.stringify(got)}`);
  };
  const int = (field: keyof RunConfig, min: number) => {
    const v = c[field] as number;
    if (!Number.isInteger(v) || v < min) bad(field, `a whole number >= ${min}`, v);
  };
  const num = (field: keyof RunConfig, lo: number, hi: number) => {
    const v = c[field] as number;
    if (typeof v !== 'number' || !(v >= lo && v <= hi)) bad(field, `a number in [${lo}, ${hi}]`, v);
  };
  if (c.version !== 1) bad('version', '1', c.version);
  if (typeof c.model !== 'string' || !c.model) bad('model', 'a file path', c.model);
  if (typeof c.data !== 'string' || !c.data) bad('data', 'a file path', c.data);
  if (!['lora', 'qlora', 'full'].includes(c.method)) bad('method', 'lora, qlora or full', c.method);
  if (!['constant', 'linear', 'cosine'].includes(c.schedule)) bad('schedule', 'constant, linear or cosine', c.schedule);
  if (!['all', 'last', 'gatt'].includes(c.mask)) bad('mask', 'all, last or gatt', c.mask);
  int('rank', 1);
  num('alpha', 1e-9, 1e9);
  num('dropout', 0, 0.999999);
  if (!Array.isArray(c.targets) || c.targets.length === 0 || c.targets.some((t) => !LORA_TARGET_NAMES.includes(t))) {
    bad('targets', `a non-empty list of ${LORA_TARGET_NAMES.join(',')}`, c.targets);
  }
  if (c.steps !== undefined) int('steps', 1);
  int('epochs', 1);
  int('batch', 1);
  num('lr', 0, 10);
  int('warmup', 0);
  if (c.warmupRatio !== undefined) num('warmupRatio', 0, 1);
  num('finalRatio', 0, 1);
  num('beta1', 0, 0.999999);
  num('beta2', 0, 0.999999999);
  num('eps', 0, 1);
  num('weightDecay', 0, 10);
  num('clipNorm', 0, 1e9);
  int('seed', 0);
  int('saveEvery', 1);
  int('maxSeqLen', 2);
  int('threads', 1);
  if (c.device !== undefined && !['cpu', 'cuda', 'auto'].includes(c.device)) bad('device', 'cpu, cuda or auto', c.device);
}

/**
 * The optimizer steps of the run: --steps, else enough batches to see every packed row `epochs`
 * times (batches run on across an epoch's end into the next shuffled epoch).
 */
export function totalSteps(c: RunConfig, rowCount: number): number {
  return c.steps ?? Math.ceil((c.epochs * rowCount) / c.batch);
}

export function warmupSteps(c: RunConfig, total: number): number {
  return c.warmupRatio !== undefined ? Math.ceil(c.warmupRatio * total) : c.warmup;
}
