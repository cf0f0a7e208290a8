// Parity with llama.cpp (issue 3): the same GGUF through Paddock and through node-llama-cpp (CPU
// prebuilt, installed into test/bench on demand; the test skips, saying why, when it can't be).
// Teacher-forced over the first tokens of a fixed text, the top-1 token must agree at every
// position and next-token probabilities (softmax of each engine's full-vocabulary logits, in
// float64) must differ by at most 1e-3 in max-abs (F32/F16; quantized files: see QUANT_* below);
// greedy 128-token continuations must be identical (F32/F16; reported for the quantized files).
// Each engine runs in its own process (test/bench/parity-worker.ts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadAddon } from '../../electron/engine/addon';
import type { ParityArgs, ParityResult } from '../bench/parity-worker';
import { ensureSynthModel } from '../bench/synth-cache';
import { ensurePeer } from '../support/peer';
import { bundledGguf, repoRoot } from '../support/testdata';

const TEXT =
  'Once upon a time, in a small village by the sea, there lived a girl named Lily who loved to collect shells. ' +
  'Every morning she walked along the beach with her little brown dog, looking for the prettiest ones. One day ' +
  'she found a big shell that sang softly when she held it to her ear, and she ran home to show her mother.';

interface Case {
  name: string;
  file: () => Promise<string>;
  positions: number;
  /** Quantized files: see `noiseFloor` below instead of a fixed 1e-3. */
  quantized: boolean;
  /** Large synthetic files, run only with PADDOCK_PARITY_LARGE=1 (gigabytes to write, minutes to run). */
  large?: boolean;
}

/** stories260K (a trained model) written by Paddock's own GGUF export in a quantized type. */
async function exportedStories(type: 'q8_0' | 'q4_0'): Promise<string> {
  const out = path.join(os.tmpdir(), `paddock-parity-stories260K-${type}.gguf`);
  const addon = loadAddon();
  const model = await addon.loadModel(bundledGguf);
  await addon.writeGguf(model, out, { type });
  model.dispose();
  return out;
}

const cases: Case[] = [
  { name: 'stories260K F32', file: async () => bundledGguf, positions: 64, quantized: false },
  { name: 'TinyLlama-1.1B shape F16', file: () => ensureSynthModel('tinyllama-1.1b', 'f16'), positions: 64, quantized: false },
  { name: 'stories260K Q8_0', file: () => exportedStories('q8_0'), positions: 64, quantized: true },
  { name: 'stories260K Q4_0', file: () => exportedStories('q4_0'), positions: 64, quantized: true },
  { name: 'TinyLlama-1.1B shape Q8_0', file: () => ensureSynthModel('tinyllama-1.1b', 'q8_0'), positions: 64, quantized: true, large: true },
  // The Llama 3 vocabulary (byte-level BPE, merges rebuilt from the ranks) must load in llama.cpp too.
  { name: 'Llama-3.2-1B shape Q8_0', file: () => ensureSynthModel('llama-3.2-1b', 'q8_0'), positions: 16, quantized: true, large: true },
];
const runLarge = process.env.PADDOCK_PARITY_LARGE === '1';

// Quantized files: activations are quantized to 8 bits per block before every matmul, so a
// last-bit difference anywhere (summation order, KV cache rounding) can flip an activation's
// rounding and the flips compound over the layers. Measured: Paddock against itself with only
// the KV cache changed from F32 to F16 moves probabilities by 2.8e-2 (stories260K Q8_0) to 0.41
// (random-weight TinyLlama Q8_0), as far as Paddock is from llama.cpp (3.1e-2, 0.29). A fixed
// 2e-2 cannot hold for these files, so the bound is that noise floor: Paddock vs llama.cpp must
// stay within 1.25x of Paddock F32-KV vs Paddock F16-KV (and within 2e-2 when the floor is lower).
// A wrong kernel (scale, block layout, offset) moves probabilities by far more than that.
const QUANT_FLOOR_FACTOR = 1.25;
const QUANT_TOLERANCE = 2e-2;

const GREEDY_TOKENS = 128;
// The KV cache both engines use. F32 by default: there both match a float64 PyTorch forward of
// stories260K to ~1.5e-5 in logits, so what is compared is the engines, not two different F16
// roundings (llama.cpp's flash attention also rounds Q and the attention weights to F16;
// PADDOCK_PARITY_KV=f16 compares the engines' F16 defaults).
const kvCacheType = (process.env.PADDOCK_PARITY_KV ?? 'f32') as 'f16' | 'f32';
const threads = Math.min(os.cpus().length, 16);
const peerMissing = ensurePeer();

function runEngine(args: ParityArgs): { logits: Float32Array; result: ParityResult } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'test/bench/parity-worker.ts'), JSON.stringify(args)], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 5 * 60_000,
  });
  assert.equal(r.status, 0, `${args.engine} failed on ${args.model}: ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-3).join('\n')}`);
  const bytes = fs.readFileSync(args.out);
  fs.rmSync(args.out, { force: true });
  const logits = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  return { logits, result: JSON.parse(r.stdout.trim().split('\n').pop()!) as ParityResult };
}

/** Softmax in float64 of one position's logits. */
function probabilities(logits: Float32Array, pos: number, vocab: number): Float64Array {
  const row = logits.subarray(pos * vocab, (pos + 1) * vocab);
  let max = -Infinity;
  for (const x of row) max = Math.max(max, x);
  const p = new Float64Array(vocab);
  let sum = 0;
  for (let i = 0; i < vocab; i++) sum += p[i] = Math.exp(row[i] - max);
  for (let i = 0; i < vocab; i++) p[i] /= sum;
  return p;
}

function argmax(p: Float64Array): number {
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
  return best;
}

interface Comparison {
  maxDiff: number;
  worstPos: number;
  /** Positions whose top-1 differs; margin = Paddock's p(top-1) - p(top-2) there. */
  disagreements: { text: string; margin: number }[];
}

function compare(ours: Float32Array, other: Float32Array, positions: number, vocab: number): Comparison {
  const out: Comparison = { maxDiff: 0, worstPos: 0, disagreements: [] };
  for (let pos = 0; pos < positions; pos++) {
    const a = probabilities(ours, pos, vocab);
    const b = probabilities(other, pos, vocab);
    const ta = argmax(a);
    const tb = argmax(b);
    if (ta !== tb) {
      const second = Math.max(...Array.from(a).filter((_, i) => i !== ta));
      out.disagreements.push({ text: `position ${pos}: paddock ${ta} (p=${a[ta].toFixed(4)}), other ${tb} (p=${b[tb].toFixed(4)})`, margin: a[ta] - second });
    }
    for (let i = 0; i < vocab; i++) {
      const d = Math.abs(a[i] - b[i]);
      if (d > out.maxDiff) [out.maxDiff, out.worstPos] = [d, pos];
    }
  }
  return out;
}

for (const c of cases) {
  const skip = peerMissing || (c.large && !runLarge ? 'a multi-gigabyte synthetic file: set PADDOCK_PARITY_LARGE=1 to run it' : false);
  test(`parity with llama.cpp: ${c.name}`, { skip, timeout: 10 * 60_000 }, async (t) => {
    const file = await c.file();
    const addon = loadAddon();
    const info = await addon.readModelInfo(file);
    const tok = await addon.loadTokenizer(file);
    const ids = [info.bosId, ...tok.encode(TEXT, false, false)];
    assert.ok(ids.length >= c.positions, `the text gives only ${ids.length} tokens`);
    const teacher = ids.slice(0, c.positions);
    const vocab = info.vocabSize;
    const base = { model: file, vocabSize: vocab, teacher, greedyPrompt: ids.slice(0, 8), greedyTokens: c.quantized ? 32 : GREEDY_TOKENS, threads, kvCacheType };
    const tmp = (engine: string) => path.join(os.tmpdir(), `paddock-parity-${process.pid}-${engine}.f32`);
    const ours = runEngine({ ...base, engine: 'paddock', out: tmp('paddock') });
    const peer = runEngine({ ...base, engine: 'llama.cpp', out: tmp('llamacpp') });
    const diff = compare(ours.logits, peer.logits, teacher.length, vocab);
    const ga = ours.result.greedy;
    const gb = peer.result.greedy;
    let same = 0;
    while (same < Math.min(ga.length, gb.length) && ga[same] === gb[same]) same++;
    let summary = `${c.name}: ${teacher.length} positions, max |Δp| ${diff.maxDiff.toExponential(2)} (position ${diff.worstPos}), top-1 agrees at ${teacher.length - diff.disagreements.length}/${teacher.length}; greedy: ${same} of ${ga.length}/${gb.length} tokens identical`;

    if (!c.quantized) {
      t.diagnostic(summary);
      process.stderr.write(`[parity] ${summary}\n`);
      assert.deepEqual(diff.disagreements.map((d) => d.text), [], 'top-1 differs');
      assert.ok(diff.maxDiff <= 1e-3, `max |Δp| ${diff.maxDiff} > 1e-3 at position ${diff.worstPos}`);
      // Both stop early only at the same end-of-generation token.
      assert.deepEqual(ga, gb, `greedy continuations differ from token ${same}`);
      assert.ok(ga.length >= 32, `greedy run stopped after ${ga.length} tokens: too short to compare`);
      return;
    }
    const self = runEngine({ ...base, kvCacheType: kvCacheType === 'f32' ? 'f16' : 'f32', engine: 'paddock', out: tmp('paddock-kv') });
    const floor = compare(ours.logits, self.logits, teacher.length, vocab).maxDiff;
    const bound = Math.max(QUANT_TOLERANCE, QUANT_FLOOR_FACTOR * floor);
    summary += `; Paddock's own noise floor (KV F32 vs F16) ${floor.toExponential(2)}, bound ${bound.toExponential(2)}`;
    t.diagnostic(summary);
    process.stderr.write(`[parity] ${summary}\n`);
    assert.ok(diff.maxDiff <= bound, `max |Δp| ${diff.maxDiff} > ${bound} at position ${diff.worstPos}`);
    // Top-1 may differ only at near-ties, where the two best tokens are closer than the noise.
    const real = diff.disagreements.filter((d) => d.margin > 2 * floor);
    assert.deepEqual(real.map((d) => d.text), [], 'top-1 differs where Paddock is sure of it');
  });
}
