// `paddock devices` against the built addon: one JSON line on stdout with the CPU and the CUDA
// backend. On a machine without an NVIDIA GPU the real CUDA module is found but has no device and
// says why; with PADDOCK_CUDA_MODULE pointing at the emulator module the emulated device is listed.
// Also: logits --device cuda without a device keeps stdout to its JSON line and says so on stderr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { addonPath } from '../../electron/engine/addon';
import { cliEntry } from '../support/server';
import { bundledGguf } from '../support/testdata';

const moduleDir = path.dirname(addonPath());
const ext = process.platform === 'win32' ? 'dll' : process.platform === 'darwin' ? 'dylib' : 'so';
const realModule = path.join(moduleDir, `paddock_cuda.${ext}`);
const emuModule = path.join(moduleDir, `paddock_cuda_emu.${ext}`);

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const clean = { ...process.env };
  delete clean.PADDOCK_CUDA_MODULE;
  return spawnSync(process.execPath, [cliEntry, ...args], { encoding: 'utf8', env: { ...clean, ...env }, maxBuffer: 1 << 26 });
}

interface DevicesOut {
  backends: [
    { name: string; compiled: boolean; devices: { name: string; memory_bytes: number }[] },
    { name: string; compiled: boolean; loaded: boolean; reason?: string; devices: { name: string; memory_bytes: number; free_bytes: number; compute_capability: string; emulated: boolean; matmul: string }[] },
  ];
}

function devices(env: NodeJS.ProcessEnv = {}): DevicesOut {
  const r = cli(['devices'], env);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.deepEqual(lines.slice(1), [''], 'exactly one line on stdout');
  return JSON.parse(lines[0]) as DevicesOut;
}

test('devices: the CPU with its memory, and CUDA compiled (module beside the addon) with no device and a reason, or real devices', () => {
  const out = devices();
  const [cpu, cuda] = out.backends;
  assert.equal(cpu.name, 'cpu');
  assert.equal(cpu.compiled, true);
  assert.equal(cpu.devices.length, 1);
  assert.ok(cpu.devices[0].name.length > 0);
  assert.ok(cpu.devices[0].memory_bytes > 2 ** 28, 'RAM reported');
  assert.equal(cuda.name, 'cuda');
  assert.equal(cuda.compiled, fs.existsSync(realModule), `compiled says whether ${realModule} exists`);
  if (cuda.devices.length === 0) {
    assert.ok(cuda.reason && cuda.reason.length > 10, `a reason for no device: ${cuda.reason}`);
  } else {
    // A machine with a GPU: real devices, never the emulator.
    for (const d of cuda.devices) {
      assert.equal(d.emulated, false);
      assert.ok(d.memory_bytes > 0 && d.free_bytes <= d.memory_bytes);
      assert.match(d.compute_capability, /^\d+\.\d+$/);
    }
  }
});

test('devices with PADDOCK_CUDA_MODULE = the emulator: one emulated sm_80 device with its memory', { skip: fs.existsSync(emuModule) ? undefined : `no ${emuModule} (a build without nvcc)` }, () => {
  const [, cuda] = devices({ PADDOCK_CUDA_MODULE: emuModule }).backends;
  assert.equal(cuda.compiled, true);
  assert.equal(cuda.loaded, true);
  assert.equal(cuda.devices.length, 1);
  const d = cuda.devices[0];
  assert.equal(d.name, 'Paddock CUDA emulator (CPU)');
  assert.equal(d.emulated, true);
  assert.equal(d.compute_capability, '8.0');
  // The emulated device is sm_80: the probe leaves wgmma off and says why.
  assert.equal(d.matmul, 'mma.sync (wgmma: not a sm_90 device (sm_80))');
  assert.ok(d.memory_bytes > 0 && d.free_bytes > 0 && d.free_bytes <= d.memory_bytes);
});

test('logits without a CUDA device: auto falls back with the notice on stderr (stdout: the JSON line only); --device cuda fails', { skip: fs.existsSync(bundledGguf) ? undefined : 'no bundled model' }, (t) => {
  if (devices().backends[1].devices.length > 0) return t.skip('this machine has a GPU');
  const r = cli(['logits', '--model', bundledGguf, '--prompt', 'Once upon a time']);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.deepEqual(lines.slice(1), ['']);
  assert.equal((JSON.parse(lines[0]) as { logits: number[] }).logits.length, 512);
  assert.match(r.stderr, /\[paddock\] .*running on the CPU/);
  const cpu = cli(['logits', '--model', bundledGguf, '--prompt', 'Once upon a time', '--device', 'cpu']);
  assert.equal(cpu.status, 0, cpu.stderr);
  assert.equal(cpu.stdout, r.stdout, 'the fallback computes what the CPU does');
  assert.equal(cpu.stderr, '', 'no notice when the CPU was asked for');
  const cuda = cli(['logits', '--model', bundledGguf, '--prompt', 'x', '--device', 'cuda']);
  assert.notEqual(cuda.status, 0);
  assert.equal(cuda.stdout, '');
  assert.match(cuda.stderr, /CUDA|NVIDIA|GPU/);
  const bad = cli(['logits', '--model', bundledGguf, '--prompt', 'x', '--device', 'tpu']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--device must be one of auto, cpu, cuda/);
});
