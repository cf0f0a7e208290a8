// The app's device plumbing over the fake engine: system.devices converts the engine's list,
// device settings are validated and persisted in the data folder, chat replies carry them to the
// engine, and the backend a reply reports reaches the UI as an engine.backend event (with the
// notice). Also the engine-side report of an addon without the CUDA backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NativeDevices } from '../../electron/engine/addon';
import { backendReport } from '../../electron/engine/backend-report';
import { backendLabel } from '../../electron/shared/backend-label';
import type { BackendReport } from '../../electron/shared/contract-system';
import { FAKE_MODEL, makeCore } from './helpers';

const emulated: NativeDevices = {
  backends: [
    { name: 'cpu', compiled: true, devices: [{ name: 'Test CPU', memory_bytes: 16e9 }] },
    {
      name: 'cuda', compiled: true, loaded: true,
      devices: [{ index: 0, name: 'Paddock CUDA emulator (CPU)', memory_bytes: 16e9, free_bytes: 8e9, compute_capability: '8.0', bf16: true, emulated: true, matmul: 'mma.sync (wgmma: not a sm_90 device (sm_80))' }],
    },
  ],
};
const devicesMethod = { devices: async () => emulated };

test('system.devices: the engine\'s list in the contract\'s shape, default settings, no backend yet', async () => {
  const { call } = makeCore({ methods: devicesMethod });
  const r = await call('system.devices', {});
  assert.deepEqual(r.devices.cpu, { name: 'Test CPU', memoryBytes: 16e9 });
  assert.equal(r.devices.cuda.reason, null);
  assert.deepEqual(r.devices.cuda.devices[0], {
    index: 0, name: 'Paddock CUDA emulator (CPU)', memoryBytes: 16e9, freeBytes: 8e9, computeCapability: '8.0', bf16: true, emulated: true, matmul: 'mma.sync (wgmma: not a sm_90 device (sm_80))',
  });
  assert.deepEqual(r.settings, { device: 'auto', gpuLayers: null });
  assert.equal(r.backend, null);
});

test('device settings: validated, kept across restarts (a file in the data folder), sent with each reply', async () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-devices-'));
  const first = makeCore({ methods: devicesMethod }, home);
  await assert.rejects(first.call('system.setDeviceSettings', { device: 'metal' as never }), /device/);
  await assert.rejects(first.call('system.setDeviceSettings', { gpuLayers: -2 }), /gpuLayers/);
  assert.deepEqual(await first.call('system.setDeviceSettings', { device: 'cuda', gpuLayers: 6 }), { device: 'cuda', gpuLayers: 6 });
  await first.core.close();
  const again = makeCore({ methods: devicesMethod }, home);
  assert.deepEqual((await again.call('system.devices', {})).settings, { device: 'cuda', gpuLayers: 6 });
  await again.call('models.import', { path: FAKE_MODEL });
  const conv = await again.call('chat.create', {});
  await again.call('chat.send', { conversationId: conv.id, content: 'hi' });
  await again.core.chat.settled(conv.id);
  assert.equal(again.engine.requests.at(-1)?.device, 'cuda');
  assert.equal(again.engine.requests.at(-1)?.gpuLayers, 6);
  // gpuLayers null = all layers: the request leaves it out (the engine's default).
  await again.call('system.setDeviceSettings', { device: 'auto', gpuLayers: null });
  await again.call('chat.send', { conversationId: conv.id, content: 'again' });
  await again.core.chat.settled(conv.id);
  assert.equal(again.engine.requests.at(-1)?.device, 'auto');
  assert.ok(!('gpuLayers' in again.engine.requests.at(-1)!));
  await again.core.close();
  fs.rmSync(home, { recursive: true, force: true });
});

test('the backend a reply reports is pushed to the UI once per change, notice included', async () => {
  const fallback: BackendReport = {
    name: 'cpu', deviceName: 'CPU', gpuLayers: 0, layerCount: 5, deviceBytes: 0,
    notice: 'CUDA unavailable: no NVIDIA driver found; running on the CPU',
  };
  const t = makeCore({ methods: devicesMethod });
  // The fake engine's replies carry no backend; report one as the real engine does.
  const generate = t.engine.generate.bind(t.engine);
  t.engine.generate = async (p, onText) => ({ ...(await generate(p, onText)), backend: fallback });
  await t.call('models.import', { path: FAKE_MODEL });
  const conv = await t.call('chat.create', {});
  for (const content of ['one', 'two']) {
    await t.call('chat.send', { conversationId: conv.id, content });
    await t.core.chat.settled(conv.id);
  }
  assert.deepEqual(t.eventsOf('engine.backend'), [fallback]);
  assert.deepEqual((await t.call('system.devices', {})).backend, fallback);
  await t.core.close();
});

test('engine report: an addon without the CUDA backend answers CPU, with a notice only when CUDA was asked for', () => {
  assert.deepEqual(backendReport(undefined, 'auto', 22), { name: 'cpu', deviceName: 'CPU', gpuLayers: 0, layerCount: 22, deviceBytes: 0, notice: null });
  assert.match(backendReport(undefined, 'cuda', 22).notice ?? '', /CUDA unavailable: .*running on the CPU/);
  // A native CPU answer to a CUDA request without a notice of its own still gets one.
  assert.ok(backendReport({ name: 'cpu', deviceName: 'CPU', deviceBytes: 0 }, 'cuda', 22).notice);
  const gpu = backendReport({ name: 'cuda', deviceName: 'NVIDIA H100 80GB HBM3', deviceBytes: 3.1e9, gpuLayers: 22, layerCount: 22 }, 'auto', 22);
  assert.equal(gpu.notice, null);
  assert.equal(backendLabel(gpu), 'CUDA · NVIDIA H100 80GB HBM3 · 22/22 layers · 3.1 GB');
  assert.equal(backendLabel(backendReport(undefined, 'cpu', 22)), 'CPU');
  assert.equal(backendLabel({ ...gpu, gpuLayers: 5, layerCount: 5, deviceBytes: 2.4e6 }), 'CUDA · NVIDIA H100 80GB HBM3 · 5/5 layers · 2 MB');
});

test('system.memoryPlan: the registered model\'s plan and the GPU layers that fit device 0\'s free memory', async () => {
  const t = makeCore({ methods: devicesMethod });
  const model = await t.call('models.import', { path: FAKE_MODEL });
  const r = await t.call('system.memoryPlan', { modelId: model.id, contextLength: 512, device: 'cuda' });
  assert.equal(r.freeBytes, 8e9);
  assert.equal(r.suggestedGpuLayers, 5); // a 260K-parameter model fits 8 GB many times over
  assert.equal(r.plan.gpuLayers, 5);
  assert.ok(r.plan.deviceBytes > 0);
  const none = makeCore({ methods: { devices: async () => ({ backends: [emulated.backends[0], { ...emulated.backends[1], loaded: false, reason: 'no driver', devices: [] }] }) } });
  const m2 = await none.call('models.import', { path: FAKE_MODEL });
  const r2 = await none.call('system.memoryPlan', { modelId: m2.id, contextLength: 512, device: 'cpu' });
  assert.equal(r2.freeBytes, null);
  assert.equal(r2.suggestedGpuLayers, null);
  assert.equal(r2.plan.deviceBytes, 0);
  await assert.rejects(t.call('system.memoryPlan', { modelId: 'nope', contextLength: 512, device: 'cpu' }), /No model/);
  await t.core.close();
  await none.core.close();
});

test('runs.estimate on CUDA: the trainer\'s device plan against the device\'s free memory; the CPU as the way out', async () => {
  let free = 8e9;
  const withFree = { devices: async (): Promise<NativeDevices> => ({ backends: [emulated.backends[0], { ...emulated.backends[1], devices: [{ ...emulated.backends[1].devices[0], free_bytes: free }] }] }) };
  const t = makeCore({ methods: withFree });
  const model = await t.call('models.import', { path: FAKE_MODEL });
  const form = { modelId: model.id, datasetId: 'ds1', method: 'lora' as const, rank: 4, maxSeqLen: 64, threads: 1 };
  const cpu = await t.call('runs.estimate', form);
  assert.equal(cpu.device, 'cpu');
  const gpu = await t.call('runs.estimate', { ...form, device: 'cuda' });
  assert.equal(gpu.device, 'cuda');
  assert.equal(gpu.available, 8e9);
  assert.equal(gpu.fits, true);
  // Fake model: vocab 512, dim 64 -> the classifier chunk is min(256, 64) x 512 (F32 logits + BF16 dlogits) and
  // the BF16 slab the whole 512 x 64 classifier (it is below the 8Mi-value bound).
  assert.equal(gpu.breakdown.classifierChunk, 64 * 512 * (4 + 2));
  assert.equal(gpu.breakdown.dequantScratch, 512 * 64 * 2);
  assert.equal(gpu.breakdown.activations, cpu.breakdown.activations);
  free = gpu.total - 1; // one byte short
  const short = await t.call('runs.estimate', { ...form, device: 'cuda' });
  assert.equal(short.fits, false);
  assert.deepEqual(short.suggestions.map((s) => s.patch.device), ['cpu']);
  await assert.rejects(t.call('runs.create', { ...form, device: 'cuda' }), /needs about .* but .* is available\. To make it fit: train on the CPU/);
  const none = makeCore({ methods: { devices: async () => ({ backends: [emulated.backends[0], { ...emulated.backends[1], devices: [] }] }) } });
  const m2 = await none.call('models.import', { path: FAKE_MODEL });
  await assert.rejects(none.call('runs.estimate', { ...form, modelId: m2.id, device: 'cuda' }), /No CUDA device/);
  await t.core.close();
  await none.core.close();
});
