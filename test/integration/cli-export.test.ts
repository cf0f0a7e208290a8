// `paddock export` of a trained run: a PEFT folder (adapter_config.json + adapter_model.safetensors
// with HF PEFT's key names and shapes), a GGUF LoRA adapter (llama.cpp's general.type "adapter"),
// merged GGUFs (F16, Q8_0) that `generate` runs and whose logits equal the base with the adapter
// attached (within F16 rounding); stdout is the path only. A full fine-tuning run
// has no adapter: only gguf-merged is offered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadAddon } from '../../electron/engine/addon';
import { bundledGguf, noTestdata, repoRoot, stories } from '../support/testdata';

const cliSource = path.join(repoRoot, 'electron/cli/main.ts');
const cli = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', cliSource, ...args], { encoding: 'utf8', cwd: repoRoot, timeout: 180_000 });

/** Trains a few steps (lr high enough that B moves away from zero) and returns the run directory. */
function trainedRun(dir: string, method: 'lora' | 'full'): string {
  const data = path.join(dir, 'story.txt');
  fs.writeFileSync(data, fs.readFileSync(stories.expected, 'utf8').split('\n').slice(0, 2).join('\n\n'));
  const run = path.join(dir, `run-${method}`);
  const r = cli(['train', '--model', bundledGguf, '--data', data, '--method', method, '--targets', 'q,k,v,o,down', '--rank', '4', '--steps', '3', '--lr', '1e-2', '--threads', '2', '--out', run]);
  assert.equal(r.status, 0, r.stderr);
  return run;
}

/** The JSON header of a .safetensors file: name -> {dtype, shape}. */
function safetensorsHeader(file: string): Record<string, { dtype: string; shape: number[] }> {
  const buf = fs.readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[] }>;
  delete header.__metadata__;
  return header;
}

/** The last position's logits of BOS + a few fixed tokens. */
async function logitsOf(model: Awaited<ReturnType<ReturnType<typeof loadAddon>['loadModel']>>, adapter?: Awaited<ReturnType<ReturnType<typeof loadAddon>['loadAdapter']>>): Promise<Float32Array> {
  const ctx = model.createContext({ threads: 1 });
  if (adapter) ctx.setAdapters!([{ adapter }]);
  const logits = await ctx.decode(Int32Array.of(model.info.bosId, 300, 301, 302, 303));
  ctx.dispose();
  return logits;
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

test('a LoRA run exports as PEFT, GGUF LoRA and merged GGUF (f16, q8_0); the merged model generates', { skip: noTestdata, timeout: 240_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-export-'));
  const run = trainedRun(dir, 'lora');

  const peft = path.join(dir, 'peft');
  const p = cli(['export', '--run', run, '--format', 'peft', '--out', peft]);
  assert.equal(p.status, 0, p.stderr);
  assert.equal(p.stdout, `${peft}\n`);
  const config = JSON.parse(fs.readFileSync(path.join(peft, 'adapter_config.json'), 'utf8'));
  assert.equal(config.peft_type, 'LORA');
  assert.equal(config.r, 4);
  assert.equal(config.lora_alpha, 8);
  assert.deepEqual([...config.target_modules].sort(), ['down_proj', 'k_proj', 'o_proj', 'q_proj', 'v_proj']);
  // PEFT's layout: lora_A [r, in], lora_B [out, r] under base_model.model.model.layers.{i}.
  // stories260K: dim 64, 5 layers, 8 heads, 4 kv heads (k/v out 32), ffn 172.
  const tensors = safetensorsHeader(path.join(peft, 'adapter_model.safetensors'));
  assert.equal(Object.keys(tensors).length, 5 * 5 * 2);
  const pre = 'base_model.model.model.layers';
  assert.deepEqual(tensors[`${pre}.0.self_attn.q_proj.lora_A.weight`].shape, [4, 64]);
  assert.deepEqual(tensors[`${pre}.0.self_attn.q_proj.lora_B.weight`].shape, [64, 4]);
  assert.deepEqual(tensors[`${pre}.4.self_attn.k_proj.lora_B.weight`].shape, [32, 4]);
  assert.deepEqual(tensors[`${pre}.2.mlp.down_proj.lora_A.weight`].shape, [4, 172]);
  assert.ok(!Object.keys(tensors).some((k) => k.includes('gate_proj')));

  const lora = path.join(dir, 'adapter.gguf');
  const g = cli(['export', '--run', run, '--format', 'gguf-lora', '--out', lora]);
  assert.equal(g.status, 0, g.stderr);
  assert.equal(g.stdout, `${lora}\n`);
  const bytes = fs.readFileSync(lora);
  assert.equal(bytes.subarray(0, 4).toString('latin1'), 'GGUF');
  for (const s of ['general.type', 'adapter', 'adapter.lora.alpha', 'blk.0.attn_q.weight.lora_a', 'blk.4.ffn_down.weight.lora_b']) {
    assert.ok(bytes.includes(Buffer.from(s)), `${s} in the GGUF LoRA file`);
  }

  // generate --adapter: the PEFT folder and the GGUF LoRA file give the same greedy text, and the
  // adapter is really applied (3 steps barely move this peaked model at scale 1, so scale 5).
  const greedy = (extra: string[]) => {
    const r = cli(['generate', '--model', bundledGguf, '--prompt', 'Once upon a time', '--max-tokens', '24', '--temperature', '0', ...extra]);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  for (const scale of ['1', '5']) {
    assert.equal(greedy(['--adapter', peft, '--adapter-scale', scale]), greedy(['--adapter', lora, '--adapter-scale', scale]));
  }
  assert.notEqual(greedy([]), greedy(['--adapter', lora, '--adapter-scale', '5']), 'the adapter changes the greedy continuation');

  for (const type of ['f16', 'q8_0']) {
    const merged = path.join(dir, `merged-${type}.gguf`);
    const m = cli(['export', '--run', run, '--format', 'gguf-merged', '--type', type, '--out', merged]);
    assert.equal(m.status, 0, m.stderr);
    assert.equal(m.stdout, `${merged}\n`);
    const gen = cli(['generate', '--model', merged, '--max-tokens', '20', '--temperature', '0']);
    assert.equal(gen.status, 0, gen.stderr);
    assert.ok(gen.stdout.length > 10, `generated text from ${type}: ${JSON.stringify(gen.stdout)}`);
  }

  // Both adapter files load on the base as trained (rank 4, alpha 8, five targets), and the base
  // with the adapter attached gives the merged F16 model's logits within 5e-2 absolute: the F16
  // rounding of every merged weight (~5e-4 relative) carried through 5 layers (measured 1.2e-2),
  // far below what the adapter itself moves them (measured 6.5).
  const addon = loadAddon();
  const base = await addon.loadModel(bundledGguf);
  for (const file of [peft, lora]) {
    const a = await addon.loadAdapter(base, file);
    assert.equal(a.rank, 4);
    assert.equal(a.alpha, 8);
    assert.deepEqual([...a.targets].sort(), ['down', 'k', 'o', 'q', 'v']);
  }
  const adapter = await addon.loadAdapter(base, lora);
  const merged = await addon.loadModel(path.join(dir, 'merged-f16.gguf'));
  const withAdapter = await logitsOf(base, adapter);
  const plain = await logitsOf(base);
  const mergedLogits = await logitsOf(merged);
  assert.ok(maxAbsDiff(withAdapter, plain) > 0.1, `the trained adapter changes the logits (${maxAbsDiff(withAdapter, plain)})`);
  assert.ok(maxAbsDiff(withAdapter, mergedLogits) < 5e-2, `merged F16 == base + adapter (${maxAbsDiff(withAdapter, mergedLogits)})`);
  merged.dispose();
  base.dispose();
});

test('a full fine-tuning run exports merged only; bad export arguments name the problem', { skip: noTestdata, timeout: 240_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-export-full-'));
  const run = trainedRun(dir, 'full');
  const peft = cli(['export', '--run', run, '--format', 'peft', '--out', path.join(dir, 'peft')]);
  assert.notEqual(peft.status, 0);
  assert.equal(peft.stdout, '');
  assert.match(peft.stderr, /full fine-tuning/);
  const merged = path.join(dir, 'full.gguf');
  const m = cli(['export', '--run', run, '--format', 'gguf-merged', '--out', merged]);
  assert.equal(m.status, 0, m.stderr);
  const gen = cli(['generate', '--model', merged, '--max-tokens', '10', '--temperature', '0']);
  assert.equal(gen.status, 0, gen.stderr);

  const noRun = cli(['export', '--run', path.join(dir, 'nothing'), '--format', 'gguf-lora', '--out', path.join(dir, 'x.gguf')]);
  assert.notEqual(noRun.status, 0);
  assert.match(noRun.stderr, /nothing.*run\.json/);
  const badFormat = cli(['export', '--run', run, '--format', 'onnx', '--out', path.join(dir, 'x')]);
  assert.equal(badFormat.status, 2);
  assert.match(badFormat.stderr, /peft, gguf-lora, gguf-merged/);
});
