// Quantized GGUFs through the real engine: `synth` writes stories15m-shaped random-weight models in
// Q8_0 and Q4_K_M (llama.cpp's per-tensor mix), which load and generate; a corrupt tensor type id
// is refused with a message naming the tensor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cliEntry } from '../support/server';
import { loadAddon } from '../../electron/engine/addon';

const cli = (args: string[]) => spawnSync(process.execPath, [cliEntry, ...args], { encoding: 'utf8' });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-quant-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

for (const [type, tensorType] of [['q8_0', 'Q8_0'], ['q4_k_m', 'Q8_0']] as const) {
  // stories15m's rows (288) are no multiple of 256, so Q4_K_M stores most matrices as Q8_0 (as
  // llama.cpp's fallback does) and ffn_down (768 = 3 x 256) as Q4_K / Q6_K.
  test(`synth stories15m ${type} loads and generates`, async () => {
    const out = path.join(dir, `stories15m-${type}.gguf`);
    const w = cli(['synth', '--shape', 'stories15m', '--type', type, '--out', out, '--seed', '3']);
    assert.equal(w.status, 0, w.stderr);
    assert.equal(w.stdout.trim(), out);
    const info = await loadAddon().readModelInfo(out);
    assert.equal(info.vocabSize, 32000);
    assert.equal(info.embeddingLength, 288);
    assert.equal(info.tensorType, tensorType);
    const g = cli(['generate', '--model', out, '--max-tokens', '24', '--temperature', '0']);
    assert.equal(g.status, 0, g.stderr);
    assert.ok(g.stdout.length > 0, 'generated text');
    assert.match(g.stderr, /24 tokens/);
    // Greedy is deterministic.
    const again = cli(['generate', '--model', out, '--max-tokens', '24', '--temperature', '0']);
    assert.equal(again.stdout, g.stdout);
  });
}

test('a corrupted quant tensor type id is refused, naming the tensor', async () => {
  const out = path.join(dir, 'corrupt.gguf');
  await loadAddon().writeSyntheticGguf(out, { shape: 'stories260k', type: 'q8_0', seed: 1 });
  const bytes = fs.readFileSync(out);
  const name = Buffer.from('blk.2.attn_q.weight');
  const at = bytes.indexOf(name);
  assert.ok(at > 0);
  const typeAt = at + name.length + 4 + 2 * 8; // name, n_dims u32, ne[2] u64, then the type id
  assert.equal(bytes.readUInt32LE(typeAt), 8); // Q8_0
  bytes.writeUInt32LE(77, typeAt);
  fs.writeFileSync(out, bytes);
  const r = cli(['generate', '--model', out, '--max-tokens', '4']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /blk\.2\.attn_q\.weight/);
  await assert.rejects(loadAddon().loadModel(out), (e: Error & { code?: string }) => /blk\.2\.attn_q\.weight/.test(e.message));
});

test('synth refuses unknown shapes and types', () => {
  const r = cli(['synth', '--shape', 'gpt-5', '--type', 'q8_0', '--out', path.join(dir, 'x.gguf')]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /stories15m/);
  const t = cli(['synth', '--shape', 'stories15m', '--type', 'q2_k', '--out', path.join(dir, 'x.gguf')]);
  assert.equal(t.status, 2);
});
