// The memory plan of a model on a device, before anything is allocated: how many bytes land on
// the GPU and how many stay in host RAM, item by item, for chat (a context of n_ctx positions,
// some or all layers offloaded) and for training (the trainer runs wholly on one device).
//
// Weights: the file's bytes spread over the parameters (bytesPerParam = fileBytes / parameters,
//   exact for F32/F16 files, the mix's average for quantized ones). A layer has
//   2 dim (norms) + 2 dim² (q, o) + 2 dim kvd (k, v) + 3 dim hidden (gate, up, down) parameters,
//   kvd = dim / heads x kvHeads. Layers are offloaded from the last one (gpuLayers = N: the last N
//   layers); with any layer offloaded the classifier (the output matrix, or for tied models a copy
//   of the embedding table) and the final norm go too. The token embedding table stays on the host
//   (a gather). Offloaded layers' pages of the memory-mapped file are reclaimable, so they are not
//   counted on the host.
// KV cache: F16, 2 (K, V) x n_ctx x kvd x 2 bytes per layer, wherever the layer runs.
// Chat scratch (F32) per side: a chunk of B tokens through one layer (x, xn, attention out, q:
//   4 dim; k, v: 2 kvd; gate, up: 2 hidden) plus attention scores heads x B x n_ctx; B = 256 on the
//   GPU (its prefill chunk), min(512, n_ctx) on the CPU (as shared/memory-estimate.ts); the logits
//   (vocab F32) where the classifier runs.
// GPU extras (product_tuning.h, cuda_train_session.cpp): a base that is not BF16 is dequantized in
//   row slabs of at most WEIGHT_SLAB_ELEMENTS values, never a whole matrix (chat's prefill: layer
//   matrices; the classifier only multiplies the last position's vector). In training the
//   classifier runs in chunks of 256 positions (F32 logits + BF16 dlogits) instead of maxSeqLen x
//   vocab, LoRA's thin products use a split-K workspace of 8 slices, and full fine-tuning uploads
//   the row's token groups for the embedding gradient.
// Training: trainable parameters x 4 F32 arrays (value, gradient, AdamW m and v), activations of
//   one row with or without checkpointing (run-memory.ts's account of the native trainer).
import { activationBytes, trainableElements, type MemorySettings, type ModelShape } from './training/run-memory';

export type PlanDevice = 'cpu' | 'cuda';

/** The trainer's model shape (run-memory.ts) plus whether the classifier is tied to the embeddings. */
export interface PlanModel extends Omit<ModelShape, 'tensorType'> {
  tiedEmbeddings: boolean;
}

export interface MemoryPlan {
  device: PlanDevice;
  /** Layers on the GPU (0 on the CPU). */
  gpuLayers: number;
  deviceBytes: number;
  hostBytes: number;
  deviceBreakdown: Record<string, number>;
  hostBreakdown: Record<string, number>;
}

export const F32 = 4;
const F16 = 2;
const BF16 = 2;
/** Tokens per GPU forward chunk (the native GpuOffload max_chunk) and per classifier chunk in training. */
export const GPU_CHUNK = 256;
const CPU_PREFILL = 512;
/** Free device memory kept out of suggestions: the CUDA context, cuBLAS workspaces, fragmentation. */
export const DEVICE_HEADROOM = 0.05;

type LayerShape = Pick<PlanModel, 'dim' | 'hidden' | 'heads' | 'kvHeads'>;
const kvDim = (m: LayerShape) => (m.dim / m.heads) * m.kvHeads;
export const layerParameters = (m: LayerShape): number => 2 * m.dim + 2 * m.dim * m.dim + 2 * m.dim * kvDim(m) + 3 * m.dim * m.hidden;
const bytesPerParam = (m: PlanModel) => m.fileBytes / m.parameterCount;
const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

/** KV cache bytes of one layer (F16). */
export const kvBytesPerLayer = (m: PlanModel, contextLength: number): number => 2 * contextLength * kvDim(m) * F16;

/** F32 scratch of a chunk of `chunk` tokens through one layer, with attention scores over n_ctx. */
export function chunkScratchBytes(m: PlanModel, chunk: number, contextLength: number): number {
  const perToken = 4 * m.dim + 2 * kvDim(m) + 2 * m.hidden;
  return F32 * (chunk * perToken + m.heads * chunk * contextLength);
}


/** The dequantisation slab bound (product_tuning.h kWeightSlabElements). */
export const WEIGHT_SLAB_ELEMENTS = 8 * 1024 * 1024;
/** Split-K slices at most (gemm_splitk.h kSplitKMaxSlices). */
const SPLIT_K_SLICES = 8;

/** Rows of a [rows x cols] matrix dequantized at once (product_tuning.cpp weight_slab_rows). */
export function weightSlabRows(rows: number, cols: number): number {
  const fit = Math.floor(WEIGHT_SLAB_ELEMENTS / cols);
  const align = fit >= 128 ? 128 : 8;
  return Math.min(rows, Math.max(8, Math.floor(fit / align) * align));
}

/**
 * BF16 bytes of the dequantisation slab: the largest slab over the matrices dequantized on the device
 * (an upper bound: a BF16 base needs none). Chat's prefill dequantizes layer matrices only (the
 * classifier multiplies the last position's vector in its own type); training the classifier too.
 */
export function slabBytes(m: PlanModel, withClassifier: boolean): number {
  const kvd = kvDim(m);
  const matrices: [number, number][] = [[m.dim, m.dim], [kvd, m.dim], [m.hidden, m.dim], [m.dim, m.hidden]];
  if (withClassifier) matrices.push([m.vocab, m.dim]);
  return Math.max(...matrices.map(([rows, cols]) => weightSlabRows(rows, cols) * cols)) * BF16;
}

/** Chat: a context of `contextLength` positions with `gpuLayers` (default all) of the layers on CUDA. */
export function planInference(m: PlanModel, device: PlanDevice, contextLength: number, gpuLayers = m.layers): MemoryPlan {
  const g = device === 'cuda' ? Math.max(0, Math.min(gpuLayers, m.layers)) : 0;
  const bpp = bytesPerParam(m);
  const layerBytes = layerParameters(m) * bpp;
  const embeddingBytes = m.vocab * m.dim * bpp;
  const classifierBytes = m.vocab * m.dim * bpp + m.dim * bpp; // output matrix (or tied copy) + final norm
  const kv = kvBytesPerLayer(m, contextLength);
  const headOnDevice = g > 0;
  const deviceBreakdown: Record<string, number> = {};
  const hostBreakdown: Record<string, number> = {};
  if (g > 0) {
    deviceBreakdown.weights = g * layerBytes + classifierBytes;
    deviceBreakdown.kvCache = g * kv;
    deviceBreakdown.scratch = chunkScratchBytes(m, Math.min(GPU_CHUNK, contextLength), contextLength);
    deviceBreakdown.logits = m.vocab * F32;
    deviceBreakdown.dequantScratch = slabBytes(m, false);
  }
  // Tied models keep the table on the host for the lookup even when the classifier's copy is offloaded.
  const hostClassifier = headOnDevice ? 0 : m.tiedEmbeddings ? m.dim * bpp : classifierBytes;
  hostBreakdown.weights = (m.layers - g) * layerBytes + embeddingBytes + hostClassifier;
  hostBreakdown.kvCache = (m.layers - g) * kv;
  if (g < m.layers) hostBreakdown.scratch = chunkScratchBytes(m, Math.min(CPU_PREFILL, contextLength), contextLength);
  if (!headOnDevice) hostBreakdown.logits = m.vocab * F32;
  return plan(device, g, deviceBreakdown, hostBreakdown);
}


/** Training: on the CPU everything is host memory; on CUDA the trainer's state is on the device (the loaded base stays on the host too). */
export function planTraining(m: PlanModel, device: PlanDevice, s: MemorySettings): MemoryPlan {
  const trainable = trainableElements(m, s) * F32;
  const state = { parameters: trainable, gradients: trainable, adamMoments: 2 * trainable };
  const activations = activationBytes(m, s);
  if (device === 'cpu') {
    return plan('cpu', 0, {}, { weights: m.fileBytes, ...state, activations, logits: s.maxSeqLen * m.vocab * F32 });
  }
  const deviceBreakdown = {
    weights: m.fileBytes,
    ...state,
    activations,
    classifierChunk: Math.min(GPU_CHUNK, s.maxSeqLen) * m.vocab * (F32 + BF16),
    dequantScratch: slabBytes(m, true),
    ...(s.method === 'full'
      ? { embeddingGroups: F32 * (3 * s.maxSeqLen + 1) }
      : { splitKWorkspace: F32 * SPLIT_K_SLICES * s.rank * Math.max(s.maxSeqLen, m.dim, m.hidden) }),
  };
  return plan('cuda', m.layers, deviceBreakdown, { weights: m.fileBytes });
}

/**
 * The most layers whose chat plan fits `freeBytes` of the device (less DEVICE_HEADROOM): all of
 * them when the whole model fits, 0 when not even one layer does.
 */
export function suggestGpuLayers(m: PlanModel, contextLength: number, freeBytes: number): number {
  const budget = freeBytes * (1 - DEVICE_HEADROOM);
  let best = 0;
  for (let g = 1; g <= m.layers; g++) {
    if (planInference(m, 'cuda', contextLength, g).deviceBytes <= budget) best = g;
    else break; // device bytes only grow with g
  }
  return best;
}

function plan(device: PlanDevice, gpuLayers: number, deviceBreakdown: Record<string, number>, hostBreakdown: Record<string, number>): MemoryPlan {
  return { device, gpuLayers, deviceBytes: sum(deviceBreakdown), hostBytes: sum(hostBreakdown), deviceBreakdown, hostBreakdown };
}
