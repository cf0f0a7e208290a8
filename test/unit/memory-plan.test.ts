// The memory planner (electron/core/memory-plan.ts) on the real shapes of DESIGN.md "Synthetic
// shapes", as F16 files (2 bytes a parameter, so every figure can be redone by hand): where the
// bytes go for chat with all, some or no layers on the GPU, the GPU layers suggested for a free
// memory, and training on the CPU vs CUDA (chunked classifier, BF16 dequantisation scratch).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEVICE_HEADROOM, layerParameters, planInference, planTraining, suggestGpuLayers, weightSlabRows, type PlanModel } from '../../electron/core/memory-plan';
import { activationBytes } from '../../electron/core/training/run-memory';

function f16(m: Omit<PlanModel, 'parameterCount' | 'fileBytes'>, parameterCount: number): PlanModel {
  return { ...m, parameterCount, fileBytes: 2 * parameterCount };
}
// Parameters: layers x layerParameters + vocab x dim (x2 untied) + dim (final norm).
const tinyllama = f16({ dim: 2048, hidden: 5632, layers: 22, heads: 32, kvHeads: 4, vocab: 32000, tiedEmbeddings: false }, 1_100_048_384);
const llama32 = f16({ dim: 2048, hidden: 8192, layers: 16, heads: 32, kvHeads: 8, vocab: 128256, tiedEmbeddings: true }, 1_235_814_400);
const llama2 = f16({ dim: 4096, hidden: 11008, layers: 32, heads: 32, kvHeads: 32, vocab: 32000, tiedEmbeddings: false }, 6_738_415_616);

test('layer parameters and totals match the published model sizes', () => {
  // 2 dim + 2 dim² + 2 dim kvd + 3 dim hidden: TinyLlama kvd 256, Llama 3.2 kvd 512, Llama 2 kvd 4096.
  assert.equal(layerParameters(tinyllama), 4096 + 8_388_608 + 1_048_576 + 34_603_008); // 44,044,288
  assert.equal(22 * layerParameters(tinyllama) + 2 * 32000 * 2048 + 2048, tinyllama.parameterCount); // 1.10 B
  assert.equal(16 * layerParameters(llama32) + 128256 * 2048 + 2048, llama32.parameterCount); // 1.24 B (tied)
  assert.equal(32 * layerParameters(llama2) + 2 * 32000 * 4096 + 4096, llama2.parameterCount); // 6.74 B
});

test('TinyLlama on CUDA, every layer: weights, F16 KV, 256-token chunk scratch, logits, a BF16 dequant slab', () => {
  const p = planInference(tinyllama, 'cuda', 2048);
  assert.equal(p.gpuLayers, 22);
  assert.deepEqual(p.deviceBreakdown, {
    weights: 22 * 88_088_576 + 131_072_000 + 4096, // 22 layers x 2 B + classifier (32000 x 2048 x 2) + final norm
    kvCache: 22 * 2 * 2048 * 256 * 2, // 2 MiB a layer: 46,137,344
    scratch: 4 * (256 * (4 * 2048 + 2 * 256 + 2 * 5632) + 32 * 256 * 2048), // 87,556,096
    logits: 32000 * 4,
    dequantScratch: 4096 * 2048 * 2, // a 16 MiB slab of gate/up; the classifier is a matvec of the last position
  });
  assert.equal(p.deviceBytes, 2_219_623_424);
  // The host keeps only the token embedding table (a gather).
  assert.deepEqual(p.hostBreakdown, { weights: 131_072_000, kvCache: 0 });
});

test('Llama-3.2-1B with 8 of 16 layers on CUDA: the first 8 layers, their KV and a 512-token scratch stay on the host', () => {
  const p = planInference(llama32, 'cuda', 4096, 8);
  const layerBytes = 2 * 60_821_504;
  const kvLayer = 2 * 4096 * 512 * 2; // 8 MiB
  assert.equal(layerParameters(llama32), 60_821_504);
  assert.deepEqual(p.hostBreakdown, {
    weights: 8 * layerBytes + 128256 * 2048 * 2, // tied: the table stays for the lookup, a copy is the GPU's classifier
    kvCache: 8 * kvLayer,
    scratch: 4 * (512 * (4 * 2048 + 2 * 512 + 2 * 8192) + 32 * 512 * 4096),
  });
  assert.equal(p.deviceBreakdown.weights, 8 * layerBytes + 128256 * 2048 * 2 + 2048 * 2);
  assert.equal(p.deviceBreakdown.kvCache, 8 * kvLayer);
  // On the CPU nothing is on the device and the whole model (as loaded) is host memory.
  const cpu = planInference(llama32, 'cpu', 4096, 8);
  assert.equal(cpu.gpuLayers, 0);
  assert.equal(cpu.deviceBytes, 0);
  assert.equal(cpu.hostBreakdown.weights, 16 * layerBytes + 128256 * 2048 * 2 + 2048 * 2); // + the final norm
  assert.equal(cpu.hostBreakdown.logits, 128256 * 4);
});

test('Llama-2-7B F16 (13.5 GB) in 8 GiB free at 4096 positions: 16 layers fit', () => {
  // Per layer: 404,766,720 B of weights + 67,108,864 B of KV = 471,875,584. Fixed: classifier
  // 262,152,192 + scratch 181,927,936 + logits 128,000 + a 16 MiB dequant slab 16,777,216 = 460,985,344.
  // (8 GiB x 0.95 - 460,985,344) / 471,875,584 = 16.3 -> 16.
  const free = 8 * 2 ** 30;
  assert.equal(DEVICE_HEADROOM, 0.05);
  assert.equal(planInference(llama2, 'cuda', 4096, 1).deviceBytes, 460_985_344 + 471_875_584);
  assert.equal(suggestGpuLayers(llama2, 4096, free), 16);
  assert.ok(planInference(llama2, 'cuda', 4096, 16).deviceBytes <= free * 0.95);
  assert.ok(planInference(llama2, 'cuda', 4096, 17).deviceBytes > free * 0.95);
  // An 80 GB card takes all of it; 100 MB takes no layer.
  assert.equal(suggestGpuLayers(llama2, 4096, 80e9), 32);
  assert.equal(suggestGpuLayers(llama2, 4096, 100e6), 0);
});

test('training TinyLlama LoRA r8 on CUDA: F32 x4 per trainable parameter, a 256-row classifier chunk and the BF16 scratch', () => {
  const s = { method: 'lora' as const, rank: 8, targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'], maxSeqLen: 512, checkpointActivations: false, threads: 4 };
  // Trainable: 22 layers x 8 x (q, o: 4096 each; k, v: 2304 each; gate, up, down: 7680 each) = 6,307,840.
  const trainable = 22 * 8 * (2 * 4096 + 2 * 2304 + 3 * 7680);
  assert.equal(trainable, 6_307_840);
  const shape = { ...tinyllama, tensorType: 'F16' };
  const gpu = planTraining(tinyllama, 'cuda', s);
  assert.deepEqual(gpu.deviceBreakdown, {
    weights: tinyllama.fileBytes,
    parameters: 4 * trainable,
    gradients: 4 * trainable,
    adamMoments: 8 * trainable,
    activations: activationBytes(shape, s),
    classifierChunk: 256 * 32000 * (4 + 2), // F32 logits + BF16 dlogits, instead of 512 x 32000 x 4 on the CPU
    // Row slabs of at most 8Mi values: 4096 of the classifier's 2048-wide rows (16 MiB), never the whole matrix.
    dequantScratch: 4096 * 2048 * 2,
    splitKWorkspace: 4 * 8 * 8 * 5632, // 8 slices x rank 8 x max(T 512, dim 2048, hidden 5632)
  });
  assert.deepEqual(gpu.hostBreakdown, { weights: tinyllama.fileBytes });
  const cpu = planTraining(tinyllama, 'cpu', s);
  assert.equal(cpu.deviceBytes, 0);
  assert.equal(cpu.hostBreakdown.logits, 512 * 32000 * 4);
  // Checkpointing keeps one layer's activations plus each layer's input: less on the device.
  const ckpt = planTraining(tinyllama, 'cuda', { ...s, checkpointActivations: true });
  assert.equal(gpu.deviceBytes - ckpt.deviceBytes, activationBytes(shape, s) - activationBytes(shape, { ...s, checkpointActivations: true }));
  assert.ok(ckpt.deviceBytes < gpu.deviceBytes);
  // Full fine-tuning: no split-K workspace, the token groups of the embedding gradient instead.
  const full = planTraining(tinyllama, 'cuda', { ...s, method: 'full' });
  assert.equal(full.deviceBreakdown.embeddingGroups, 4 * (3 * 512 + 1));
  assert.equal(full.deviceBreakdown.splitKWorkspace, undefined);
});

test('the trainer\'s dequantisation slabs: whole multiples of 128 rows within 8Mi values, at least 8 rows, at most the matrix', () => {
  assert.equal(weightSlabRows(128256, 2048), 4096); // Llama 3.2's tied classifier: 501 MiB in BF16 -> a 16 MiB slab
  assert.equal(weightSlabRows(2048, 8192), 1024);
  assert.equal(weightSlabRows(100, 64), 100); // the whole (small) matrix
  assert.equal(weightSlabRows(1000, 100_000), 80); // fit 83 -> multiples of 8
  assert.equal(weightSlabRows(50, 2_000_000), 8); // wider than the bound: 8 rows still
});
