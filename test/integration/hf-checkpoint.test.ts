// HF checkpoint folders through the addon and the CLI: stories260K written as config.json +
// model.safetensors (q/k rows in HF's rotate-half order) loads from the folder path, reads its
// info as format 'hf', gives the llama2.c checkpoint's logits bit for bit, and `generate --model
// <folder>` prints run.c's greedy text; a folder without config.json is refused by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadAddon, type NativeError } from '../../electron/engine/addon';
import { cliEntry } from '../support/server';
import { noTestdata, stories } from '../support/testdata';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-hf-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

interface Tensor { name: string; shape: number[]; data: Float32Array }

/** The weights of a legacy llama2.c checkpoint (header of 7 int32, then float32 tensors). */
function readLlama2c(file: string) {
  const buf = fs.readFileSync(file);
  const [dim, hidden, layers, heads, kvHeads, vocab, seqLen] = Array.from({ length: 7 }, (_, i) => buf.readInt32LE(4 * i));
  const kvDim = (dim / heads) * kvHeads;
  let offset = 28;
  const take = (n: number) => {
    const out = new Float32Array(buf.buffer.slice(buf.byteOffset + offset, buf.byteOffset + offset + 4 * n));
    offset += 4 * n;
    return out;
  };
  const cfg = { dim, hidden, layers, heads, kvHeads, vocab, seqLen, kvDim };
  const w = {
    emb: take(vocab * dim), attNorm: take(layers * dim), wq: take(layers * dim * dim), wk: take(layers * kvDim * dim),
    wv: take(layers * kvDim * dim), wo: take(layers * dim * dim), ffnNorm: take(layers * dim), w1: take(layers * hidden * dim),
    w2: take(layers * dim * hidden), w3: take(layers * hidden * dim), norm: take(dim),
  };
  return { cfg, w };
}

/** Interleaved RoPE rows (llama2.c / GGUF) -> HF's rotate-half order, per head. */
function toRotateHalf(m: Float32Array, nHeads: number, headDim: number, cols: number): Float32Array {
  const out = new Float32Array(m.length);
  const half = headDim / 2;
  for (let h = 0; h < nHeads; h++)
    for (let i = 0; i < half; i++)
      for (let j = 0; j < 2; j++) {
        const from = h * headDim + 2 * i + j, to = h * headDim + j * half + i;
        out.set(m.subarray(from * cols, (from + 1) * cols), to * cols);
      }
  return out;
}

function writeSafetensors(file: string, tensors: Tensor[]) {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8) json += ' ';
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  fs.writeFileSync(file, Buffer.concat([len, Buffer.from(json), ...tensors.map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))]));
}

function writeHfFolder(dir: string) {
  const { cfg, w } = readLlama2c(stories.bin);
  const hd = cfg.dim / cfg.heads;
  const slice = (a: Float32Array, l: number, n: number) => a.subarray(l * n, (l + 1) * n);
  const tensors: Tensor[] = [{ name: 'model.embed_tokens.weight', shape: [cfg.vocab, cfg.dim], data: w.emb }];
  for (let l = 0; l < cfg.layers; l++) {
    const p = `model.layers.${l}.`;
    tensors.push(
      { name: p + 'input_layernorm.weight', shape: [cfg.dim], data: slice(w.attNorm, l, cfg.dim) },
      { name: p + 'self_attn.q_proj.weight', shape: [cfg.dim, cfg.dim], data: toRotateHalf(slice(w.wq, l, cfg.dim * cfg.dim), cfg.heads, hd, cfg.dim) },
      { name: p + 'self_attn.k_proj.weight', shape: [cfg.kvDim, cfg.dim], data: toRotateHalf(slice(w.wk, l, cfg.kvDim * cfg.dim), cfg.kvHeads, hd, cfg.dim) },
      { name: p + 'self_attn.v_proj.weight', shape: [cfg.kvDim, cfg.dim], data: slice(w.wv, l, cfg.kvDim * cfg.dim) },
      { name: p + 'self_attn.o_proj.weight', shape: [cfg.dim, cfg.dim], data: slice(w.wo, l, cfg.dim * cfg.dim) },
      { name: p + 'post_attention_layernorm.weight', shape: [cfg.dim], data: slice(w.ffnNorm, l, cfg.dim) },
      { name: p + 'mlp.gate_proj.weight', shape: [cfg.hidden, cfg.dim], data: slice(w.w1, l, cfg.hidden * cfg.dim) },
      { name: p + 'mlp.down_proj.weight', shape: [cfg.dim, cfg.hidden], data: slice(w.w2, l, cfg.dim * cfg.hidden) },
      { name: p + 'mlp.up_proj.weight', shape: [cfg.hidden, cfg.dim], data: slice(w.w3, l, cfg.hidden * cfg.dim) },
    );
  }
  tensors.push({ name: 'model.norm.weight', shape: [cfg.dim], data: w.norm });
  fs.mkdirSync(dir, { recursive: true });
  writeSafetensors(path.join(dir, 'model.safetensors'), tensors);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({
    architectures: ['LlamaForCausalLM'], hidden_size: cfg.dim, intermediate_size: cfg.hidden, num_hidden_layers: cfg.layers,
    num_attention_heads: cfg.heads, num_key_value_heads: cfg.kvHeads, vocab_size: cfg.vocab, max_position_embeddings: cfg.seqLen,
    rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: true, torch_dtype: 'float32',
  }));
  fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ chat_template: '{{ messages[0].content }}' }));
}

const folder = path.join(tmp, 'stories260K-hf');
if (!noTestdata) writeHfFolder(folder);
const cli = (args: string[]) => spawnSync(process.execPath, [cliEntry, ...args], { encoding: 'utf8' });

test('readModelInfo and loadModel take the folder: format hf, the llama2.c model\'s logits bit for bit', { skip: noTestdata }, async () => {
  const addon = loadAddon();
  const info = await addon.readModelInfo(folder);
  const ref = await addon.loadModel(stories.bin, { tokenizerPath: stories.tok });
  assert.equal(info.format, 'hf');
  assert.equal(info.architecture, 'llama');
  assert.equal(info.name, 'stories260K-hf');
  assert.equal(info.tokenizer, 'none');
  assert.equal(info.parameterCount, ref.info.parameterCount);
  assert.equal(info.fileBytes, fs.statSync(path.join(folder, 'model.safetensors')).size);
  assert.equal(info.metadata['tokenizer.chat_template'], '{{ messages[0].content }}');
  for (const key of ['layerCount', 'headCount', 'headCountKv', 'embeddingLength', 'feedForwardLength', 'vocabSize', 'contextLength'] as const)
    assert.equal(info[key], ref.info[key], key);

  const hf = await addon.loadModel(folder, { tokenizerPath: stories.tok });
  assert.equal(hf.info.tokenizer, 'spm');
  const tokens = Int32Array.from(ref.tokenize('Once upon a time, there was a dog.', true));
  const a = ref.createContext({ contextLength: 64 });
  const b = hf.createContext({ contextLength: 64 });
  for (const t of tokens) {
    const la = await a.decode(Int32Array.of(t));
    const lb = await b.decode(Int32Array.of(t));
    assert.deepEqual(Buffer.from(lb.buffer, lb.byteOffset, lb.byteLength), Buffer.from(la.buffer, la.byteOffset, la.byteLength));
  }
  a.dispose();
  b.dispose();
});

test('generate --model <folder> prints run.c\'s greedy text', { skip: noTestdata }, () => {
  const r = cli(['generate', '--model', folder, '--tokenizer', stories.tok, '--max-tokens', '200', '--temperature', '0']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, fs.readFileSync(stories.expected, 'utf8'));
});

test('a folder without config.json is refused with BAD_MODEL_FILE naming it', async () => {
  const empty = path.join(tmp, 'not-a-checkpoint');
  fs.mkdirSync(empty, { recursive: true });
  await assert.rejects(loadAddon().readModelInfo(empty), (e: NativeError) => e.code === 'BAD_MODEL_FILE' && e.message.includes(empty) && e.message.includes('config.json'));
  const r = cli(['generate', '--model', empty]);
  assert.notEqual(r.status, 0);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /config\.json/);
});
