// The run form's draft and how it becomes a runs.create / runs.estimate request. Presets and the
// memory estimate's suggestions are both partial configs applied onto the draft. Pure functions.
import type { RunFormConfig } from '../../../electron/shared/contract-runs';
import type { CallRequest } from '../../../electron/shared/contract';

export const TARGETS = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] as const;
export type Target = (typeof TARGETS)[number];
export type PresetName = NonNullable<RunFormConfig['preset']>;

export interface RunDraft {
  name: string;
  modelId: string;
  datasetId: string;
  /** null: the dataset's head at creation. */
  datasetRevision: number | null;
  split: 'train' | 'all';
  preset: PresetName | '';
  method: 'lora' | 'qlora' | 'full';
  rank: number;
  alpha: number;
  dropout: number;
  targets: Target[];
  lr: number;
  schedule: 'constant' | 'linear' | 'cosine';
  /** Warmup in steps, or as a share of the steps (Alpaca's 3%). */
  warmupMode: 'steps' | 'ratio';
  warmup: number;
  warmupRatio: number;
  lengthMode: 'epochs' | 'steps';
  epochs: number;
  steps: number;
  batch: number;
  maxSeqLen: number;
  pack: boolean;
  checkpointActivations: boolean;
  mask: 'all' | 'last' | 'gatt';
  seed: number;
  saveEvery: number;
  evalEvery: number;
  /** Where the trainer runs; CUDA is offered only when the engine found a device. */
  device: 'cpu' | 'cuda';
}

export function defaultDraft(): RunDraft {
  return {
    name: '',
    modelId: '',
    datasetId: '',
    datasetRevision: null,
    split: 'train',
    preset: '',
    method: 'lora',
    rank: 8,
    alpha: 16,
    dropout: 0,
    targets: [...TARGETS],
    lr: 2e-4,
    schedule: 'constant',
    warmupMode: 'steps',
    warmup: 0,
    warmupRatio: 0.03,
    lengthMode: 'epochs',
    epochs: 1,
    steps: 100,
    batch: 1,
    maxSeqLen: 512,
    pack: true,
    checkpointActivations: false,
    mask: 'all',
    seed: 0,
    saveEvery: 50,
    evalEvery: 0,
    device: 'cpu',
  };
}

/** Copies the fields a preset or a suggestion sets onto the draft (fields it leaves out are kept). */
export function applyPatch(draft: RunDraft, patch: Partial<RunFormConfig>): RunDraft {
  const next: RunDraft = { ...draft, targets: [...draft.targets] };
  const set = <K extends keyof RunDraft>(k: K, v: RunDraft[K] | undefined) => {
    if (v !== undefined) next[k] = v;
  };
  set('method', patch.method);
  set('rank', patch.rank);
  set('alpha', patch.alpha);
  set('dropout', patch.dropout);
  if (patch.targets) next.targets = TARGETS.filter((t) => patch.targets!.includes(t));
  set('lr', patch.lr);
  set('schedule', patch.schedule);
  if (patch.warmupRatio !== undefined) {
    next.warmupMode = 'ratio';
    next.warmupRatio = patch.warmupRatio;
  } else if (patch.warmup !== undefined) {
    next.warmupMode = 'steps';
    next.warmup = patch.warmup;
  }
  if (patch.steps !== undefined) {
    next.lengthMode = 'steps';
    next.steps = patch.steps;
  } else if (patch.epochs !== undefined) {
    next.lengthMode = 'epochs';
    next.epochs = patch.epochs;
  }
  set('batch', patch.batch);
  set('maxSeqLen', patch.maxSeqLen);
  set('pack', patch.pack);
  set('checkpointActivations', patch.checkpointActivations);
  set('mask', patch.mask);
  set('seed', patch.seed);
  set('saveEvery', patch.saveEvery);
  set('evalEvery', patch.evalEvery);
  set('device', patch.device);
  if (patch.split) next.split = patch.split;
  return next;
}

type NumberField = { [K in keyof RunDraft]: RunDraft[K] extends number ? K : never }[keyof RunDraft];

/** Problems a person can fix in the form, by field; empty when the draft can be sent. */
export function draftErrors(d: RunDraft): Partial<Record<keyof RunDraft, string>> {
  const errors: Partial<Record<keyof RunDraft, string>> = {};
  const need = (k: NumberField, ok: (v: number) => boolean, msg: string) => {
    const v = d[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) errors[k] = msg;
  };
  if (!d.modelId) errors.modelId = 'Pick a base model';
  if (!d.datasetId) errors.datasetId = 'Pick a dataset';
  const lora = d.method !== 'full';
  if (lora) {
    need('rank', (v) => Number.isInteger(v) && v >= 1 && v <= 1024, 'Rank: a whole number from 1 to 1024');
    need('alpha', (v) => v > 0, 'Alpha must be above 0');
    need('dropout', (v) => v >= 0 && v < 1, 'Dropout: from 0 up to (not incl.) 1');
    if (d.targets.length === 0) errors.targets = 'Pick at least one target matrix';
  }
  need('lr', (v) => v > 0 && v <= 1, 'Learning rate: above 0, at most 1');
  if (d.warmupMode === 'steps') need('warmup', (v) => Number.isInteger(v) && v >= 0, 'Warmup: whole steps, 0 or more');
  else need('warmupRatio', (v) => v >= 0 && v <= 1, 'Warmup share: from 0 to 1');
  if (d.lengthMode === 'epochs') need('epochs', (v) => Number.isInteger(v) && v >= 1, 'Epochs: a whole number, 1 or more');
  else need('steps', (v) => Number.isInteger(v) && v >= 1, 'Steps: a whole number, 1 or more');
  need('batch', (v) => Number.isInteger(v) && v >= 1, 'Batch: a whole number, 1 or more');
  need('maxSeqLen', (v) => Number.isInteger(v) && v >= 8, 'Max sequence length: at least 8');
  need('seed', (v) => Number.isInteger(v) && v >= 0, 'Seed: a whole number, 0 or more');
  need('saveEvery', (v) => Number.isInteger(v) && v >= 1, 'Checkpoint every: 1 step or more');
  need('evalEvery', (v) => Number.isInteger(v) && v >= 0, 'Validate every: 0 (checkpoints only) or more');
  return errors;
}

/** The request runs.create and runs.estimate take. */
export function toRequest(d: RunDraft): CallRequest<'runs.create'> {
  const lora = d.method !== 'full';
  return {
    ...(d.name.trim() ? { name: d.name.trim() } : {}),
    modelId: d.modelId,
    datasetId: d.datasetId,
    ...(d.datasetRevision !== null ? { datasetRevision: d.datasetRevision } : {}),
    split: d.split,
    ...(d.preset ? { preset: d.preset } : {}),
    method: d.method,
    ...(lora ? { rank: d.rank, alpha: d.alpha, dropout: d.dropout, targets: [...d.targets] } : {}),
    lr: d.lr,
    schedule: d.schedule,
    ...(d.warmupMode === 'ratio' ? { warmupRatio: d.warmupRatio } : { warmup: d.warmup }),
    ...(d.lengthMode === 'steps' ? { steps: d.steps } : { epochs: d.epochs }),
    batch: d.batch,
    maxSeqLen: d.maxSeqLen,
    pack: d.pack,
    checkpointActivations: d.checkpointActivations,
    mask: d.mask,
    seed: d.seed,
    saveEvery: d.saveEvery,
    evalEvery: d.evalEvery,
    // CPU is the default: left out so CPU requests are as before the CUDA backend.
    ...(d.device === 'cuda' ? { device: 'cuda' as const } : {}),
  };
}
