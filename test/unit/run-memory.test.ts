// The memory estimate of a training run against figures computed by hand from what the native
// trainer allocates (train_activations.cpp, trainer.cpp's parameter_state_bytes), its
// suggestions (only changes that fit, each with its new total), and a cross-check against the
// real trainer's own count (memoryBytes) on the bundled model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { activationBytes, availableMemory, estimateRunMemory, runMemory, trainableElements, type MemorySettings, type ModelShape } from '../../electron/core/training/run-memory';
import { loadAddon } from '../../electron/engine/addon';
import { bundledGguf } from '../support/testdata';

// stories260K: dim 64, FFN 172, 5 layers, 8 heads, 4 KV heads (kv_dim 32, head_dim 8), vocab 512.
const stories: ModelShape = { dim: 64, hidden: 172, layers: 5, heads: 8, kvHeads: 4, vocab: 512, parameterCount: 260_000, fileBytes: 1_100_000, tensorType: 'F32' };
const ALL = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'];
const lora4: MemorySettings = { method: 'lora', rank: 4, targets: ALL, maxSeqLen: 128, checkpointActivations: false, threads: 2 };

test('trainable elements: LoRA A and B per targeted matrix, or every weight', () => {
  // Per layer rank x (n_in + n_out): q, o 4*(64+64)=512 each; k, v 4*(64+32)=384 each;
  // gate, up, down 4*(64+172)=944 each -> 4624; 5 layers -> 23120.
  assert.equal(trainableElements(stories, lora4), 23_120);
  assert.equal(trainableElements(stories, { ...lora4, targets: ['q', 'v'] }), 5 * (512 + 384));
  assert.equal(trainableElements(stories, { ...lora4, method: 'full' }), 260_000);
});

test('activations of one row: every layer kept, or (checkpointing) one layer plus each layer input', () => {
  const T = 128;
  // A layer: T x (6 dim + 2 kv_dim + 3 ffn + 2 rstd + heads) + 7 targets x T x rank = 128 x 974 + 3584 = 128256.
  const layer = T * (6 * 64 + 2 * 32 + 3 * 172 + 2 + 8) + 7 * T * 4;
  assert.equal(layer, 128_256);
  // The tail: T x (3 dim + head_dim + 5 dim + 2 kv_dim + 3 ffn + 1) = 128 x 1101; LoRA scratch
  // T x (2 max(dim, ffn) + rank) = 128 x 348; attention scratch 2 x T x threads = 512.
  const rest = 128 * 1101 + 128 * 348 + 512;
  assert.equal(activationBytes(stories, lora4), (5 * layer + rest) * 4);
  assert.equal(activationBytes(stories, lora4), 3_309_056);
  assert.equal(activationBytes(stories, { ...lora4, checkpointActivations: true }), (layer + 4 * T * 64 + rest) * 4);
  assert.equal(activationBytes(stories, { ...lora4, checkpointActivations: true }), 1_388_032);
});

test('the total: weights + 4 F32 arrays per trainable element + activations + T x vocab logits', () => {
  const { total, breakdown } = runMemory(stories, lora4);
  assert.deepEqual(breakdown, {
    weights: 1_100_000,
    parameters: 92_480,
    gradients: 92_480,
    adamMoments: 184_960,
    activations: 3_309_056,
    logits: 128 * 512 * 4,
  });
  assert.equal(total, 1_100_000 + 4 * 92_480 + 3_309_056 + 262_144);
  // The batch is not an input: rows are run one after another and their gradients accumulated.
});

test('a run that fits has no suggestions; one that does not gets only the changes that fit, each with its total', () => {
  const fits = estimateRunMemory(stories, lora4, 100e6);
  assert.equal(fits.fits, true);
  assert.deepEqual(fits.suggestions, []);

  const full: MemorySettings = { ...lora4, method: 'full', maxSeqLen: 1024 };
  const need = runMemory(stories, full).total;
  const limit = need - 500_000;
  const e = estimateRunMemory(stories, full, limit);
  assert.equal(e.fits, false);
  assert.equal(e.total, need);
  assert.ok(e.suggestions.length >= 2, JSON.stringify(e.suggestions));
  for (const s of e.suggestions) {
    assert.ok(s.total <= limit, `${s.change} fits`);
    assert.match(s.change, /needs \d/);
  }
  const changes = e.suggestions.map((s) => s.change);
  assert.ok(changes.includes(`turn on activation checkpointing (needs ${(runMemory(stories, { ...full, checkpointActivations: true }).total / 2 ** 20).toFixed(1)} MiB)`), changes.join(' | '));
  const lora = e.suggestions.find((s) => s.patch.method === 'lora');
  assert.ok(lora, 'LoRA instead of full fine-tuning');
  assert.equal(lora.total, runMemory(stories, { ...full, method: 'lora', rank: 8 }).total);
  const shorter = e.suggestions.find((s) => s.patch.maxSeqLen !== undefined && s.patch.checkpointActivations === undefined);
  assert.ok(shorter && shorter.patch.maxSeqLen! < 1024);

  // Nothing fits at all: no suggestions (the refusal then says to choose a smaller model).
  assert.deepEqual(estimateRunMemory(stories, full, 1000).suggestions, []);
});

test('QLoRA is suggested only for an unquantized base, with the weights of a Q4_0 copy', () => {
  const big: ModelShape = { ...stories, parameterCount: 100_000_000, fileBytes: 400_000_000 };
  const q = estimateRunMemory(big, lora4, 200_000_000).suggestions.find((s) => s.patch.method === 'qlora');
  assert.ok(q);
  assert.equal(q.total - runMemory(big, lora4).total, Math.ceil(100_000_000 * 18 / 32) - 400_000_000);
  const quantized = estimateRunMemory({ ...big, tensorType: 'Q4_0', fileBytes: 56_250_000 }, lora4, 50_000_000);
  assert.ok(!quantized.suggestions.some((s) => s.patch.method === 'qlora'));
});

test('available memory: PADDOCK_MEMORY_LIMIT_BYTES overrides the free memory', () => {
  assert.equal(availableMemory({ PADDOCK_MEMORY_LIMIT_BYTES: '12345' }), 12345);
  assert.ok(availableMemory({}) > 0);
});

test('the estimate agrees with the native trainer\'s own count on the bundled model (within alignment)', async () => {
  const addon = loadAddon();
  const model = await addon.loadModel(bundledGguf);
  try {
    const i = model.info;
    const shape: ModelShape = { dim: i.embeddingLength, hidden: i.feedForwardLength, layers: i.layerCount, heads: i.headCount, kvHeads: i.headCountKv, vocab: i.vocabSize, parameterCount: i.parameterCount, fileBytes: i.fileBytes, tensorType: i.tensorType };
    for (const settings of [lora4, { ...lora4, checkpointActivations: true }, { ...lora4, method: 'full' as const, maxSeqLen: 64 }]) {
      const trainer = await addon.createTrainer(model, { method: settings.method === 'full' ? 'full' : 'lora', rank: settings.rank, targets: settings.targets.join(','), maxSeqLen: settings.maxSeqLen, checkpointActivations: settings.checkpointActivations, threads: settings.threads });
      const { breakdown } = runMemory(shape, settings);
      const ours = breakdown.parameters + breakdown.gradients + breakdown.adamMoments + breakdown.activations + breakdown.logits;
      const native = trainer.memoryBytes;
      trainer.dispose();
      // Native buffers are 64-byte aligned each (~40 per layer): a few KiB over the estimate.
      assert.ok(native >= ours && native - ours < 32 * 1024, `${JSON.stringify(settings)}: native ${native}, estimate ${ours}`);
    }
  } finally {
    model.dispose();
  }
});
