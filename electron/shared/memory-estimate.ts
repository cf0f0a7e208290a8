// The memory a model will need once loaded, shown in the Models view before loading it.
//
//   total   = weights + kvCache + scratch
//   weights = the model file's size (weights are memory-mapped and all touched while running;
//             the header and vocabulary are a rounding error beside them)
//   kvCache = 2 (K and V) x layers x contextLength x kvHeads x headDim x 2 bytes (F16 cache;
//             4 bytes for an F32 cache), headDim = embedding / heads
//   scratch = F32 work buffers: the logits (vocab) plus, for a prefill batch of
//             B = min(512, contextLength) tokens, the activations of one layer at a time
//             (x, normed x, attention out, q: 4 x embedding; k, v: 2 x kvHeads x headDim;
//             gate, up: 2 x feedForward) and the attention scores (heads x B x contextLength)
// It is an estimate to judge whether a model fits, not an exact account of allocations.

export interface MemoryShape {
  fileBytes: number;
  layerCount: number;
  embeddingLength: number;
  headCount: number;
  headCountKv: number;
  vocabSize: number;
  /** The FFN width; when the file doesn't say, Llama's 8/3 x embedding is assumed. */
  feedForwardLength?: number;
}

export interface MemoryEstimate {
  weights: number;
  kvCache: number;
  scratch: number;
  total: number;
}

export const PREFILL_BATCH = 512;

export function estimateMemory(m: MemoryShape, contextLength: number, kvBytesPerValue: 2 | 4 = 2): MemoryEstimate {
  const headDim = m.headCount > 0 ? m.embeddingLength / m.headCount : 0;
  const kvDim = m.headCountKv * headDim;
  const ffn = m.feedForwardLength ?? Math.round((8 / 3) * m.embeddingLength);
  const kvCache = 2 * m.layerCount * contextLength * kvDim * kvBytesPerValue;
  const batch = Math.min(PREFILL_BATCH, contextLength);
  const perToken = 4 * m.embeddingLength + 2 * kvDim + 2 * ffn;
  const scratch = 4 * (m.vocabSize + batch * perToken + m.headCount * batch * contextLength);
  const weights = m.fileBytes;
  return { weights, kvCache, scratch, total: weights + kvCache + scratch };
}

/** The FFN width from GGUF metadata ("<arch>.feed_forward_length"), if the file has it. */
export function feedForwardFromMetadata(architecture: string, metadata: Record<string, unknown>): number | undefined {
  const v = metadata[`${architecture}.feed_forward_length`];
  return typeof v === 'number' && v > 0 ? v : undefined;
}
