// Parity with llama.cpp (issue 3): the same GGUF through Paddock and through node-llama-cpp (CPU
// prebuilt, installed into test/bench on demand; the test skips, saying why, when it can't be).
// Teacher-forced over the first tokens of a fixed text, the top-1 token must agree at every
// position and next-token probabilities (softmax of each engine's full-vocabulary logits, in
// float64) must differ by at most 1e-3 (F32/F16) or 2e-2 (quantized) in max-abs; greedy 128-token
// continuations must be identical (F32/F16; reported for the quantized files). Each engine runs in
// its own process (test/bench/parity-worker.ts).
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
  tolerance: number;
  /** Greedy continuations must be identical (F32/F16); for quantized files the match is reported. */
  greedyMustMatch: boolean;
  /** A known gap: the case runs and reports, its failure is listed as a todo rather than failing the run. */
  todo?: string;
}

// Measured on the synthetic Q8_0 files: Paddock's logits differ from llama.cpp's by up to ~2 (max
// |Δp| 0.2-0.4; PADDOCK_CPU_ISA=scalar and avx2 land at different distances, 0.12 and 0.21), while
// the F16 file matches to 2e-5: Paddock's quantized path is the suspect (issue 3), not the comparison.
const quantGap = "Paddock's Q8_0 path differs from llama.cpp beyond 2e-2 (max |Δp| 0.2-0.4 measured)";

const cases: Case[] = [
  { name: 'stories260K F32', file: async () => bundledGguf, positions: 64, tolerance: 1e-3, greedyMustMatch: true },
  { name: 'TinyLlama-1.1B shape F16', file: () => ensureSynthModel('tinyllama-1.1b', 'f16'), positions: 64, tolerance: 1e-3, greedyMustMatch: true },
  { name: 'TinyLlama-1.1B shape Q8_0', file: () => ensureSynthModel('tinyllama-1.1b', 'q8_0'), positions: 64, tolerance: 2e-2, greedyMustMatch: false, todo: quantGap },
  // The Llama 3 vocabulary (byte-level BPE, merges rebuilt from the ranks) must load in llama.cpp too.
  { name: 'Llama-3.2-1B shape Q8_0', file: () => ensureSynthModel('llama-3.2-1b', 'q8_0'), positions: 16, tolerance: 2e-2, greedyMustMatch: false, todo: quantGap },
];

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

for (const c of cases) {
  test(`parity with llama.cpp: ${c.name}`, { skip: peerMissing, todo: c.todo, timeout: 10 * 60_000 }, async (t) => {
    const file = await c.file();
    const addon = loadAddon();
    const info = await addon.readModelInfo(file);
    const tok = await addon.loadTokenizer(file);
    const ids = [info.bosId, ...tok.encode(TEXT, false, false)];
    assert.ok(ids.length >= c.positions, `the text gives only ${ids.length} tokens`);
    const teacher = ids.slice(0, c.positions);
    const vocab = info.vocabSize;
    const base = { model: file, vocabSize: vocab, teacher, greedyPrompt: ids.slice(0, 8), greedyTokens: c.greedyMustMatch ? GREEDY_TOKENS : 32, threads, kvCacheType };
    const tmp = (engine: string) => path.join(os.tmpdir(), `paddock-parity-${process.pid}-${engine}.f32`);
    const ours = runEngine({ ...base, engine: 'paddock', out: tmp('paddock') });
    const peer = runEngine({ ...base, engine: 'llama.cpp', out: tmp('llamacpp') });

    let maxDiff = 0;
    let worstPos = 0;
    const disagreements: string[] = [];
    for (let pos = 0; pos < teacher.length; pos++) {
      const a = probabilities(ours.logits, pos, vocab);
      const b = probabilities(peer.logits, pos, vocab);
      const ta = argmax(a);
      const tb = argmax(b);
      if (ta !== tb) disagreements.push(`position ${pos}: paddock ${ta} (p=${a[ta].toFixed(4)}), llama.cpp ${tb} (p=${b[tb].toFixed(4)})`);
      for (let i = 0; i < vocab; i++) {
        const d = Math.abs(a[i] - b[i]);
        if (d > maxDiff) [maxDiff, worstPos] = [d, pos];
      }
    }
    const ga = ours.result.greedy;
    const gb = peer.result.greedy;
    let same = 0;
    while (same < Math.min(ga.length, gb.length) && ga[same] === gb[same]) same++;
    const summary = `${c.name}: ${teacher.length} positions, max |Δp| ${maxDiff.toExponential(2)} (position ${worstPos}), top-1 agrees at ${teacher.length - disagreements.length}/${teacher.length}; greedy: ${same} of ${ga.length}/${gb.length} tokens identical`;
    t.diagnostic(summary);
    process.stderr.write(`[parity] ${summary}\n`);

    assert.deepEqual(disagreements, [], `top-1 differs:\n${disagreements.join('\n')}`);
    assert.ok(maxDiff <= c.tolerance, `max |Δp| ${maxDiff} > ${c.tolerance} at position ${worstPos}`);
    if (c.greedyMustMatch) {
      // Both stop early only at the same end-of-generation token.
      assert.deepEqual(ga, gb, `greedy continuations differ from token ${same}`);
      assert.ok(ga.length >= 32, `greedy run stopped after ${ga.length} tokens: too short to compare`);
    }
  });
}
