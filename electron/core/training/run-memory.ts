// Memory a training run needs before it starts, from what the native trainer really allocates
// (native/src/train/trainer.cpp, native/src/model/train_activations.cpp), so a run that would not
// fit is refused with changes that would make it fit instead of dying mid-allocation:
// - weights: the model file as loaded (a quantized file stays quantized: QLoRA's saving);
// - trainable parameters: value + gradient + two AdamW moments, 4 F32 arrays each (the trainer's
//   parameter_state_bytes). Full fine-tuning copies every weight into F32 masters beside the
//   loaded base; LoRA holds layers x rank x (n_in + n_out) per targeted matrix;
// - activations of ONE row of maxSeqLen tokens: rows of a batch are run one after another and
//   their gradients accumulated, so the batch size does not change memory. With activation
//   checkpointing every layer keeps only its input and one shared set is recomputed into;
// - logits: maxSeqLen x vocab F32 (the head's output, then its gradient, in place).
// Buffer alignment (64 bytes each) and small per-token vectors are left out (well under 1%).
import os from 'node:os';
import type { RunFormConfig, RunMemoryEstimate } from '../../shared/contract-runs';

export interface ModelShape {
  dim: number;
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  vocab: number;
  parameterCount: number;
  fileBytes: number;
  tensorType: string;
}

/** What the trainable-element and activation counts read (the weight type does not change them). */
export type TrainShape = Omit<ModelShape, 'tensorType'>;

/** The settings that change memory (resolved: preset and defaults applied). */
export interface MemorySettings {
  method: 'lora' | 'qlora' | 'full';
  rank: number;
  targets: readonly string[];
  maxSeqLen: number;
  checkpointActivations: boolean;
  threads: number;
}

const F32 = 4;
const QUANTIZED = /^(Q\d|IQ\d|TQ)/i;
/** Bytes per weight of a Q4_0 file (4 bits + an F16 scale per 32): what QLoRA's base would take. */
const Q4_0_BYTES_PER_WEIGHT = 18 / 32;

export const isQuantizedType = (tensorType: string): boolean => QUANTIZED.test(tensorType);

function targetShape(s: TrainShape, target: string): [number, number] {
  const kvd = (s.dim / s.heads) * s.kvHeads;
  switch (target) {
    case 'q':
    case 'o':
      return [s.dim, s.dim];
    case 'k':
    case 'v':
      return [s.dim, kvd];
    case 'gate':
    case 'up':
      return [s.dim, s.hidden];
    case 'down':
      return [s.hidden, s.dim];
    default:
      throw new RangeError(`unknown LoRA target "${target}"`);
  }
}

/** Trainable elements: every weight (full) or the LoRA A and B matrices. */
export function trainableElements(s: TrainShape, m: MemorySettings): number {
  if (m.method === 'full') return s.parameterCount;
  return m.targets.reduce((n, t) => {
    const [nIn, nOut] = targetShape(s, t);
    return n + s.layers * m.rank * (nIn + nOut);
  }, 0);
}

/** Activation and backward-scratch bytes for one row of maxSeqLen tokens (logits apart). */
export function activationBytes(s: TrainShape, m: MemorySettings): number {
  const T = m.maxSeqLen;
  const { dim, hidden: hid, heads } = s;
  const kvd = (dim / heads) * s.kvHeads;
  const lora = m.method !== 'full';
  const rank = lora ? m.rank : 0;
  const loraPerLayer = lora ? m.targets.length * T * rank : 0;
  // x_in xn1 q att x_mid xn2 (6 x dim), k v, gate up h, rstd1 rstd2, lse, LoRA's A x per target.
  const layerFull = T * (6 * dim + 2 * kvd + 3 * hid + 2 + heads) + loraPerLayer;
  const layers = m.checkpointActivations ? layerFull + (s.layers - 1) * T * dim : s.layers * layerFull;
  // x_final xn_final head_in, rope (head_dim), dx dxn datt proj dq, dk dv, dh dgate dup, rstd_final.
  const tail = T * (3 * dim + dim / heads + 5 * dim + 2 * kvd + 3 * hid + 1);
  const loraScratch = lora ? T * (2 * Math.max(dim, hid) + rank) : 0;
  const attentionScratch = 2 * T * m.threads;
  return (layers + tail + loraScratch + attentionScratch) * F32;
}

/** The estimate without suggestions. */
export function runMemory(s: ModelShape, m: MemorySettings): { total: number; breakdown: Record<string, number> } {
  const trainable = trainableElements(s, m) * F32;
  const breakdown = {
    weights: s.fileBytes,
    parameters: trainable,
    gradients: trainable,
    adamMoments: 2 * trainable,
    activations: activationBytes(s, m),
    logits: m.maxSeqLen * s.vocab * F32,
  };
  return { total: Object.values(breakdown).reduce((a, b) => a + b, 0), breakdown };
}

/**
 * Memory the machine can give a run: PADDOCK_MEMORY_LIMIT_BYTES when set (tests, or a user who
 * wants a margin), else os.freemem() (Linux: MemAvailable, which counts reclaimable page cache).
 */
export function availableMemory(env: NodeJS.ProcessEnv = process.env): number {
  const limit = Number(env.PADDOCK_MEMORY_LIMIT_BYTES);
  return Number.isFinite(limit) && limit > 0 ? limit : os.freemem();
}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(b < 2 ** 30 ? 3 : 2)} GiB`;

/** Bytes as people read them (MiB below a GiB). */
export function formatBytes(b: number): string {
  return b < 2 ** 30 ? `${(b / 2 ** 20).toFixed(1)} MiB` : gib(b);
}

type Suggestion = RunMemoryEstimate['suggestions'][number];

/**
 * The estimate with, when it does not fit, changes that would make it fit (each with its new
 * total; only those that fit). Batch size is never suggested: it does not change memory here.
 */
export function estimateRunMemory(s: ModelShape, m: MemorySettings, available: number, device = 'cpu'): RunMemoryEstimate {
  const { total, breakdown } = runMemory(s, m);
  const fits = total <= available;
  const suggestions: Suggestion[] = [];
  if (!fits) {
    const tryChange = (change: string, patch: Partial<RunFormConfig>, settings: MemorySettings, shape: ModelShape = s): boolean => {
      const t = runMemory(shape, settings).total;
      if (t > available) return false;
      suggestions.push({ change: `${change} (needs ${formatBytes(t)})`, patch, total: t });
      return true;
    };
    if (!m.checkpointActivations) tryChange('turn on activation checkpointing', { checkpointActivations: true }, { ...m, checkpointActivations: true });
    for (let len = Math.floor(m.maxSeqLen / 2); len >= 64; len = Math.floor(len / 2)) {
      if (tryChange(`lower the max sequence length to ${len}`, { maxSeqLen: len }, { ...m, maxSeqLen: len })) break;
    }
    if (m.method === 'full') {
      const rank = 8;
      tryChange(`train a LoRA adapter (rank ${rank}) instead of every weight`, { method: 'lora', rank }, { ...m, method: 'lora', rank });
    }
    if (!isQuantizedType(s.tensorType)) {
      const quantized = { ...s, fileBytes: Math.ceil(s.parameterCount * Q4_0_BYTES_PER_WEIGHT), tensorType: 'Q4_0' };
      const rank = m.method === 'full' ? 8 : m.rank;
      tryChange(`QLoRA on a Q4_0 copy of this model (import or export one first)`, { method: 'qlora', rank }, { ...m, method: 'qlora', rank }, quantized);
    }
    if (m.method !== 'full') {
      for (let rank = Math.floor(m.rank / 2); rank >= 1; rank = Math.floor(rank / 2)) {
        if (tryChange(`lower the LoRA rank to ${rank}`, { rank }, { ...m, rank })) break;
      }
    }
    // No single change fits: checkpointing together with the shortest length that then fits.
    if (!suggestions.length && !m.checkpointActivations) {
      for (let len = Math.floor(m.maxSeqLen / 2); len >= 64; len = Math.floor(len / 2)) {
        const both = { ...m, checkpointActivations: true, maxSeqLen: len };
        if (tryChange(`turn on activation checkpointing and lower the max sequence length to ${len}`, { checkpointActivations: true, maxSeqLen: len }, both)) break;
      }
    }
  }
  return { total, breakdown, available, device, fits, suggestions };
}

/** The refusal's text: what is needed, what there is, and every change that would fit. */
export function refusalMessage(e: RunMemoryEstimate, modelName: string): string {
  const head = `This run needs about ${formatBytes(e.total)} of memory on ${modelName} but ${formatBytes(e.available)} is available.`;
  if (!e.suggestions.length) return `${head} No single change makes it fit: choose a smaller model.`;
  return `${head} To make it fit: ${e.suggestions.map((x) => x.change).join('; or ')}.`;
}
