// The native addon through its TypeScript face (electron/engine/addon.ts): llama2.c parity
// (greedy stories260K byte for byte from the legacy and v1 checkpoints and from GGUFs Paddock
// wrote), KV-cache decode == batched decode, llama.cpp's SPM tokenizer vectors, clear errors for
// bad files, model info, sampler determinism, and decode() leaving the event loop free.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadAddon, type NativeModel, type NativeError } from '../../electron/engine/addon';

const testdata = process.env.PADDOCK_TESTDATA ?? path.resolve(__dirname, '../../../shared/testdata');
const storiesDir = path.join(testdata, 'models/stories260K');
const stories = {
  bin: path.join(storiesDir, 'stories260K.bin'),
  v1: path.join(storiesDir, 'stories260K.v1.bin'),
  tok: path.join(storiesDir, 'tok512.bin'),
  expected: path.join(storiesDir, 'expected_run_c_t0_n200.txt'),
};
const spmVocab = path.join(testdata, 'tokenizers/llamacpp-vectors/ggml-vocab-llama-spm.gguf');
const noStories = fs.existsSync(stories.bin) ? false : `test data not found at ${storiesDir}`;
const noSpm = fs.existsSync(spmVocab) ? false : `test data not found at ${spmVocab}`;

const addon = loadAddon();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-native-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

// llama2.c run.c's loop: BOS at pos 0, `steps` forwards, stop on BOS; each piece printed with the
// leading space dropped after BOS and non-printable single bytes skipped (safe_printf).
async function greedyRunC(model: NativeModel, steps: number): Promise<Buffer> {
  const ctx = model.createContext();
  const out: Buffer[] = [];
  let token = 1;
  for (let pos = 0; pos < steps; pos++) {
    const next = argmax(await ctx.decode(Int32Array.of(token)));
    if (next === 1) break;
    let piece = Buffer.from(model.tokenBytes(next));
    if (token === 1 && piece[0] === 0x20) piece = piece.subarray(1);
    const printable = (b: number) => (b >= 0x20 && b < 0x7f) || (b >= 0x09 && b <= 0x0d);
    if (!(piece.length === 1 && !printable(piece[0]))) out.push(piece);
    token = next;
  }
  ctx.dispose();
  return Buffer.concat(out);
}

async function loadStories(file = stories.bin): Promise<NativeModel> {
  return addon.loadModel(file, { tokenizerPath: stories.tok });
}

async function expectCode(p: Promise<unknown>, code: string, mustMention: string): Promise<NativeError> {
  try {
    await p;
  } catch (e) {
    const err = e as NativeError;
    assert.equal(err.code, code, `code of: ${err.message}`);
    assert.ok(err.message.includes(mustMention), `message should name ${mustMention}: ${err.message}`);
    return err;
  }
  assert.fail(`expected a ${code} error`);
}

test('readModelInfo reports stories260K\'s hyperparameters', { skip: noStories }, async () => {
  const info = await addon.readModelInfo(stories.bin);
  assert.equal(info.format, 'llama2c');
  assert.equal(info.architecture, 'llama');
  assert.equal(info.name, 'stories260K');
  assert.equal(info.embeddingLength, 64);
  assert.equal(info.feedForwardLength, 172);
  assert.equal(info.layerCount, 5);
  assert.equal(info.headCount, 8);
  assert.equal(info.headCountKv, 4);
  assert.equal(info.vocabSize, 512);
  assert.equal(info.contextLength, 512);
  assert.equal(info.tiedEmbeddings, true);
  assert.equal(info.tensorType, 'F32');
  assert.equal(info.ropeTheta, 10000);
  assert.equal(info.rmsEps, 1e-5);
  assert.equal(info.fileBytes, 1056540);
  assert.equal(info.bosId, 1);
  assert.equal(info.eosId, 2);
  assert.ok(info.parameterCount > 250_000 && info.parameterCount < 270_000);
  assert.deepEqual(await addon.readModelInfo(stories.v1), { ...info, fileBytes: 1040384, name: 'stories260K.v1', metadata: { ...info.metadata, 'llama2c.version': 1 } });
});

test('greedy 200 tokens reproduce llama2.c byte for byte: legacy .bin, v1 .bin and a GGUF written by writeGguf', { skip: noStories }, async () => {
  const expected = fs.readFileSync(stories.expected);
  const legacy = await loadStories();
  assert.ok((await greedyRunC(legacy, 200)).equals(expected), 'legacy .bin');
  const v1 = await loadStories(stories.v1);
  assert.ok((await greedyRunC(v1, 200)).equals(expected), 'v1 .bin');

  const f32 = path.join(tmp, 'stories260K.f32.gguf');
  await addon.writeGguf(legacy, f32, { type: 'f32' });
  const gguf = await addon.loadModel(f32);
  assert.equal(gguf.info.format, 'gguf');
  assert.equal(gguf.info.tensorType, 'F32');
  assert.equal(gguf.info.tiedEmbeddings, true);
  assert.ok((await greedyRunC(gguf, 200)).equals(expected), 'GGUF F32');

  const f16 = path.join(tmp, 'stories260K.f16.gguf');
  await addon.writeGguf(legacy, f16, { type: 'f16' });
  const half = await addon.loadModel(f16);
  assert.equal(half.info.tensorType, 'F16');
  const text = (await greedyRunC(half, 200)).toString('utf8');
  assert.ok(text.startsWith('Once upon a time'), `F16 text: ${text}`);
  assert.ok(text.length > 300 && /^[\x20-\x7e\n]+$/.test(text), `F16 text should be plain prose: ${text}`);
  for (const m of [legacy, v1, gguf, half]) m.dispose();
});

test('the F32 GGUF gives bit-identical logits to the llama2.c file it was written from', { skip: noStories }, async () => {
  const src = await loadStories();
  const out = path.join(tmp, 'roundtrip.gguf');
  await addon.writeGguf(src, out, { type: 'f32' });
  const dst = await addon.loadModel(out);
  assert.deepEqual(dst.info.metadata['general.architecture'], 'llama');
  const tokens = src.tokenize('Once upon a time, there was a big dog named Max.', true);
  assert.deepEqual(Array.from(dst.tokenize('Once upon a time, there was a big dog named Max.', true)), Array.from(tokens));
  const a = await src.createContext().decode(tokens);
  const b = await dst.createContext().decode(tokens);
  assert.ok(Buffer.from(a.buffer).equals(Buffer.from(b.buffer)), 'logits differ');
});

test('KV-cache decode one token at a time equals one batched decode', { skip: noStories }, async () => {
  const model = await loadStories();
  const tokens = model.tokenize('Lily saw a big red ball in the park. She wanted to play with it.', true);
  for (const threads of [1, 2]) {
    const seq = model.createContext({ threads, contextLength: 128 });
    let last: Float32Array = new Float32Array();
    for (const t of tokens) last = await seq.decode(Int32Array.of(t));
    const batch = model.createContext({ threads, contextLength: 128 });
    const all = await batch.decode(tokens);
    assert.equal(seq.position, tokens.length);
    assert.equal(batch.position, tokens.length);
    assert.equal(all.length, 512);
    for (let i = 0; i < all.length; i++) {
      const tol = 1e-5 * Math.max(1, Math.abs(all[i]));
      assert.ok(Math.abs(all[i] - last[i]) <= tol, `logit ${i}: ${all[i]} vs ${last[i]} (threads ${threads})`);
    }
    // truncate keeps the prefix: re-decoding the tail gives the same logits again
    batch.truncate(5);
    assert.equal(batch.position, 5);
    const again = await batch.decode(tokens.subarray(5));
    for (let i = 0; i < all.length; i++) assert.ok(Math.abs(again[i] - all[i]) <= 1e-5 * Math.max(1, Math.abs(all[i])));
  }
  // overflow is a clear INVALID_ARGUMENT and leaves the context as it was
  const small = model.createContext({ contextLength: 8 });
  await small.decode(tokens.subarray(0, 6));
  await expectCode(small.decode(tokens.subarray(0, 3)), 'INVALID_ARGUMENT', 'context');
  assert.equal(small.position, 6);
  await expectCode(small.decode(Int32Array.of(512)), 'INVALID_ARGUMENT', '512');
});

test('SentencePiece tokenizer passes llama.cpp\'s 46 SPM vectors (vocab-only GGUF)', { skip: noSpm }, async () => {
  const inp = fs.readFileSync(`${spmVocab}.inp`, 'utf8').split('\n__ggml_vocab_test__\n');
  if (inp[inp.length - 1] === '') inp.pop(); // the file ends with a separator
  const out = fs.readFileSync(`${spmVocab}.out`, 'utf8').split('\n');
  assert.equal(inp.length, 46);
  const info = await addon.readModelInfo(spmVocab);
  assert.equal(info.vocabSize, 32000);
  assert.equal(info.parameterCount, 0);
  const model = await addon.loadModel(spmVocab);
  for (let i = 0; i < inp.length; i++) {
    const want = out[i].trim() === '' ? [] : out[i].trim().split(/\s+/).map(Number);
    assert.deepEqual(Array.from(model.tokenize(inp[i], false)), want, `case ${i}: ${JSON.stringify(inp[i])}`);
  }
  assert.deepEqual(Array.from(model.tokenize('Hello world', true)), [1, 15043, 3186]);
  assert.equal(Buffer.from(model.tokenBytes(15043)).toString(), ' Hello');
  assert.deepEqual(Array.from(model.tokenBytes(13)), [0x0a]); // <0x0A>
  assert.equal(model.tokenBytes(1).length, 0); // control tokens print nothing
  assert.equal(model.tokenText(15043), '▁Hello');
  assert.throws(() => model.createContext(), (e: NativeError) => e.code === 'UNSUPPORTED' && e.message.includes(spmVocab));
});

test('truncated, garbage and wrong-magic files are BAD_MODEL_FILE errors naming the file', { skip: noStories }, async () => {
  const bin = fs.readFileSync(stories.bin);
  const cut = path.join(tmp, 'truncated.bin');
  fs.writeFileSync(cut, bin.subarray(0, bin.length - 1000));
  const err = await expectCode(addon.loadModel(cut, { tokenizerPath: stories.tok }), 'BAD_MODEL_FILE', cut);
  assert.match(err.message, /expected 1056540 bytes .*found 1055540/);
  await expectCode(addon.readModelInfo(cut), 'BAD_MODEL_FILE', cut);

  const garbage = path.join(tmp, 'garbage.gguf');
  fs.writeFileSync(garbage, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24)));
  await expectCode(addon.loadModel(garbage), 'BAD_MODEL_FILE', garbage);

  const gguf = path.join(tmp, 'good.gguf');
  await addon.writeGguf(await loadStories(), gguf, { type: 'f32' });
  const bytes = fs.readFileSync(gguf);
  const magic = path.join(tmp, 'wrong-magic.gguf');
  fs.writeFileSync(magic, Buffer.concat([Buffer.from('GGUX'), bytes.subarray(4)]));
  await expectCode(addon.readModelInfo(magic), 'BAD_MODEL_FILE', magic);
  const header = path.join(tmp, 'cut-header.gguf');
  fs.writeFileSync(header, bytes.subarray(0, 300));
  await expectCode(addon.loadModel(header), 'BAD_MODEL_FILE', header);
  const data = path.join(tmp, 'cut-data.gguf');
  fs.writeFileSync(data, bytes.subarray(0, bytes.length - 64));
  await expectCode(addon.loadModel(data), 'BAD_MODEL_FILE', data);

  await expectCode(addon.loadModel(path.join(tmp, 'missing.gguf')), 'IO', 'missing.gguf');
  await expectCode(addon.loadModel(stories.bin), 'INVALID_ARGUMENT', 'tokenizer');
  await expectCode(addon.loadModel(stories.bin, { tokenizerPath: spmVocab }), 'BAD_MODEL_FILE', spmVocab);
});

test('sampler: same seed same tokens, different seed differs, temperature 0 is argmax', { skip: noStories }, async () => {
  const model = await loadStories();
  const logits = await model.createContext().decode(model.tokenize('Once upon a time', true));
  const draw = (seed: number) => {
    const s = addon.createSampler({ temperature: 1, topP: 1, topK: 0, seed });
    return Array.from({ length: 64 }, () => s.sample(logits));
  };
  assert.deepEqual(draw(42), draw(42));
  assert.notDeepEqual(draw(42), draw(43));
  const greedy = addon.createSampler({ temperature: 0, topP: 1, topK: 0, seed: 1 });
  assert.equal(greedy.sample(logits), argmax(logits));
  const topk = addon.createSampler({ temperature: 1, topP: 1, topK: 1, seed: 7 });
  for (let i = 0; i < 20; i++) assert.equal(topk.sample(logits), argmax(logits));
  assert.throws(() => addon.createSampler({ temperature: -1, topP: 1, topK: 0, seed: 0 }), (e: NativeError) => e.code === 'INVALID_ARGUMENT');
});

test('decode() runs off the JS thread: timers keep firing during a long prefill', { skip: noStories }, async () => {
  const model = await loadStories();
  // 2048 positions (beyond the model's trained 512, which RoPE allows): long enough on any machine.
  const ctx = model.createContext({ threads: 1, contextLength: 2048 });
  const tokens = new Int32Array(2048).map((_, i) => (i * 7919) % 512);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const start = performance.now();
  const pending = ctx.decode(tokens);
  await expectCode(ctx.decode(Int32Array.of(1)), 'INVALID_ARGUMENT', 'already running');
  assert.throws(() => ctx.truncate(0), (e: NativeError) => e.code === 'INVALID_ARGUMENT');
  const logits = await pending;
  const ms = performance.now() - start;
  clearInterval(timer);
  assert.equal(logits.length, 512);
  assert.equal(ctx.position, 2048);
  assert.ok(ms > 10, `the prefill should take a while (took ${ms.toFixed(1)} ms)`);
  assert.ok(ticks >= 3, `${ticks} timer ticks during a ${ms.toFixed(1)} ms decode`);
  console.log(`${ticks} timer ticks during a ${ms.toFixed(1)} ms prefill of 2048 tokens`);
});

test('backends() and version', () => {
  const b = addon.backends();
  // CUDA is compiled where the build machine had nvcc (the module file beside the addon): devices() says which.
  const cuda = addon.devices?.().backends.find((x) => x.name === 'cuda');
  assert.ok(cuda, 'devices() lists the cuda backend');
  assert.deepEqual(b.map((x) => [x.name, x.compiled]), [['cpu', true], ['cuda', cuda.compiled], ['metal', false]]);
  assert.equal(b[0].devices.length, 1);
  assert.ok(b[0].devices[0].name.length > 0 && b[0].devices[0].memory_bytes > 0);
  assert.match(addon.version, /^\d+\.\d+\.\d+/);
});
