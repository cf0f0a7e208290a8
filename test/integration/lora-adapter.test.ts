// LoRA adapters at inference (issue 4, items 7-8), on the bundled stories260K GGUF (F32) as base:
//  - an adapter exported by Paddock as a GGUF LoRA file (llama.cpp's convention), loaded by
//    llama.cpp (node-llama-cpp, `createContext({lora})`) on the same base, gives the same greedy
//    continuation as Paddock's own adapter inference (F32 KV cache on both sides, as in
//    parity.test.ts); the adapter is random with B big enough that the continuation differs
//    from the base's (asserted too, else the comparison would prove nothing);
//  - the same adapter written as a PEFT folder loads to the same logits bit for bit;
//  - two adapters on one loaded context: switched and rescaled without reloading the base; scale
//    0 (and detaching) gives the base's logits exactly.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadAddon, type NativeAdapter, type NativeContext, type NativeModel } from '../../electron/engine/addon';
import { ensurePeer, getPeerLlama } from '../support/peer';
import { bundledGguf } from '../support/testdata';

const TOKENS = 48;
const PROMPT = 'Once upon a time, there was a little';
// One thread: a 260K-parameter model gains nothing from more, and llama.cpp's thread wake-ups cost
// ~0.45 s per token on a loaded 2-core machine (measured: 48 tokens in 22 s with 2 threads, 0.09 s with 1).
const threads = 1;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-lora-'));
const adapterFile = path.join(tmp, 'adapter.gguf');
const peftDir = path.join(tmp, 'peft');
const adapterOptions = { rank: 4, alpha: 8, seed: 5, bRange: 0.2 };

function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

function attach(ctx: NativeContext, adapters: { adapter: NativeAdapter; scale?: number }[]): void {
  assert.ok(ctx.setAdapters, 'the addon has no setAdapters');
  ctx.setAdapters(adapters);
}

/** Paddock's greedy continuation from the prompt, stopping at an end-of-generation token like llama.cpp. */
async function greedy(model: NativeModel, ctx: NativeContext, prompt: number[]): Promise<number[]> {
  ctx.truncate(0);
  const out: number[] = [];
  let logits = await ctx.decode(Int32Array.from(prompt));
  while (out.length < TOKENS) {
    const tok = argmax(logits);
    if (model.isEog(tok)) break;
    out.push(tok);
    logits = await ctx.decode(Int32Array.of(tok));
  }
  return out;
}

async function setup(): Promise<{ model: NativeModel; ctx: NativeContext; prompt: number[] }> {
  const addon = loadAddon();
  const model = await addon.loadModel(bundledGguf);
  const ctx = model.createContext({ contextLength: 128, threads, kvCacheType: 'f32' });
  return { model, ctx, prompt: Array.from(model.tokenize(PROMPT, true)) };
}

test('LoRA: Paddock and llama.cpp give the same greedy continuation with a Paddock-exported GGUF adapter', { skip: ensurePeer(), timeout: 5 * 60_000 }, async (t) => {
  const addon = loadAddon();
  const { model, ctx, prompt } = await setup();
  await addon.writeSyntheticAdapter(model, adapterFile, { format: 'gguf', ...adapterOptions });
  const adapter = await addon.loadAdapter(model, adapterFile);
  assert.deepEqual([adapter.rank, adapter.alpha, adapter.targets], [4, 8, ['q', 'k', 'v', 'o', 'gate', 'up', 'down']]);

  const base = await greedy(model, ctx, prompt);
  attach(ctx, [{ adapter, scale: 1 }]);
  const ours = await greedy(model, ctx, prompt);
  attach(ctx, [{ adapter, scale: 0.5 }]);
  const oursHalf = await greedy(model, ctx, prompt);

  const llama = await getPeerLlama();
  const peerModel = await llama.loadModel({ modelPath: bundledGguf });
  const peer = async (scale: number): Promise<number[]> => {
    const context = await peerModel.createContext({
      contextSize: 128,
      threads,
      experimentalKvCacheKeyType: 'F32',
      experimentalKvCacheValueType: 'F32',
      flashAttention: false, // its flash path ignores the F32 KV type (see parity-worker.ts)
      lora: { adapters: [{ filePath: adapterFile, scale }] },
    });
    const out: number[] = [];
    for await (const tok of context.getSequence().evaluate(prompt, { temperature: 0 })) {
      out.push(tok as number);
      if (out.length >= TOKENS) break;
    }
    await context.dispose();
    return out;
  };
  const theirs = await peer(1);
  const theirsHalf = await peer(0.5);
  await peerModel.dispose();
  t.diagnostic(`base ${base.length} tokens; adapter: Paddock ${ours.length}, llama.cpp ${theirs.length}; first tokens ${ours.slice(0, 8).join(',')}`);

  assert.ok(ours.length >= 16, `the adapter's continuation stopped after ${ours.length} tokens: too short to compare`);
  assert.notDeepEqual(ours, base, 'the adapter does not change the greedy continuation: the comparison would prove nothing');
  assert.deepEqual(ours, theirs, 'greedy continuations with the adapter differ between Paddock and llama.cpp');
  assert.deepEqual(oursHalf, theirsHalf, 'greedy continuations at scale 0.5 differ between Paddock and llama.cpp');
  ctx.dispose();
  model.dispose();
});

test('LoRA: the PEFT folder gives the GGUF adapter\'s logits; two adapters switch on a loaded context; scale 0 is the base', async () => {
  const addon = loadAddon();
  const { model, ctx, prompt } = await setup();
  if (!fs.existsSync(adapterFile)) await addon.writeSyntheticAdapter(model, adapterFile, { format: 'gguf', ...adapterOptions });
  await addon.writeSyntheticAdapter(model, peftDir, { format: 'peft', ...adapterOptions });
  assert.deepEqual(fs.readdirSync(peftDir).sort(), ['adapter_config.json', 'adapter_model.safetensors']);
  const config = JSON.parse(fs.readFileSync(path.join(peftDir, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(config.peft_type, 'LORA');
  assert.equal(config.r, 4);
  assert.equal(config.lora_alpha, 8);
  assert.equal(config.task_type, 'CAUSAL_LM');

  const gguf = await addon.loadAdapter(model, adapterFile);
  const peft = await addon.loadAdapter(model, peftDir);
  const other = await addon.loadAdapter(model, await addon.writeSyntheticAdapter(model, path.join(tmp, 'other.gguf'), { rank: 2, targets: 'q,v', seed: 9, bRange: 0.5 }));
  assert.deepEqual(other.targets, ['q', 'v']);

  const logits = async (adapters: { adapter: NativeAdapter; scale?: number }[]): Promise<Float32Array> => {
    attach(ctx, adapters);
    assert.equal(ctx.position, 0, 'setAdapters resets the position (the cache held the old set)');
    return ctx.decode(Int32Array.from(prompt));
  };
  const base = await logits([]);
  const viaGguf = await logits([{ adapter: gguf }]);
  assert.deepEqual(await logits([{ adapter: peft }]), viaGguf, 'PEFT and GGUF forms of one adapter differ');
  assert.notDeepEqual(viaGguf, base);
  const both = await logits([{ adapter: gguf, scale: 1 }, { adapter: other, scale: 0.7 }]);
  assert.notDeepEqual(both, viaGguf);
  assert.deepEqual(await logits([{ adapter: gguf, scale: 0 }, { adapter: other, scale: 0 }]), base, 'scale 0 is not the base');
  assert.deepEqual(await logits([{ adapter: gguf, scale: 1 }, { adapter: other, scale: 0.7 }]), both, 'switching back changed the result');
  assert.deepEqual(await logits([]), base);

  assert.throws(() => attach(ctx, [{ adapter: { path: 'x', rank: 1, alpha: 1, targets: [] } }]), /NativeAdapter/);
  await assert.rejects(addon.loadAdapter(model, path.join(tmp, 'missing.gguf')), (e: Error & { code?: string }) => e.code === 'IO');
  ctx.dispose();
  model.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});
