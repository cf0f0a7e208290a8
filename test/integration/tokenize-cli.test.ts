// `paddock tokenize`: llama.cpp's tokenizer vectors (46 cases each) through the CLI for Llama 2 (a
// vocab-only GGUF and SentencePiece tokenizer.model) and Llama 3 (tiktoken tokenizer.model), and
// decode(encode(s)) == s for every case through addon.loadTokenizer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cliEntry } from '../support/server';
import { testdataDir } from '../support/testdata';
import { loadAddon } from '../../electron/engine/addon';

const tok = path.join(testdataDir, 'tokenizers');
const vectors = path.join(tok, 'llamacpp-vectors');
const missing = fs.existsSync(path.join(vectors, 'ggml-vocab-llama-spm.gguf.inp')) ? undefined : `tokenizer vectors not found under ${vectors}`;

function readVectors(name: string): { inputs: string[]; expected: number[][] } {
  const inputs = fs.readFileSync(path.join(vectors, `${name}.inp`), 'utf8').split('\n__ggml_vocab_test__\n');
  assert.equal(inputs.pop(), '', 'the .inp file ends with a separator');
  const expected = fs
    .readFileSync(path.join(vectors, `${name}.out`), 'utf8')
    .replace(/\n$/, '')
    .split('\n')
    .map((l) => (l.trim() === '' ? [] : l.trim().split(/\s+/).map(Number)));
  assert.equal(inputs.length, 46, `${name}: 46 cases`);
  assert.equal(expected.length, inputs.length, `${name}: one .out line per case`);
  return { inputs, expected };
}

function cliTokenize(model: string, inputs: string[]): number[][] {
  const r = spawnSync(process.execPath, [cliEntry, 'tokenize', '--model', model], {
    input: inputs.map((s) => JSON.stringify(s)).join('\n') + '\n',
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.equal(lines.pop(), '', 'stdout ends with a newline');
  return lines.map((l) => JSON.parse(l) as number[]);
}

const cases: [string, string, string][] = [
  ['Llama 2 vocab-only GGUF', path.join(vectors, 'ggml-vocab-llama-spm.gguf'), 'ggml-vocab-llama-spm.gguf'],
  ['Llama 2 SentencePiece tokenizer.model', path.join(tok, 'llama2/tokenizer.model'), 'ggml-vocab-llama-spm.gguf'],
  ['Llama 3 tiktoken tokenizer.model', path.join(tok, 'llama3/tokenizer.model'), 'ggml-vocab-llama-bpe.gguf'],
];

for (const [label, file, vec] of cases) {
  test(`tokenize --model: llama.cpp vectors, ${label}`, { skip: missing ?? (fs.existsSync(file) ? undefined : `${file} not found`) }, () => {
    const { inputs, expected } = readVectors(vec);
    const got = cliTokenize(file, inputs);
    assert.equal(got.length, inputs.length);
    let passed = 0;
    for (let i = 0; i < inputs.length; i++) {
      assert.deepEqual(got[i], expected[i], `case ${i} ${JSON.stringify(inputs[i])}`);
      passed++;
    }
    assert.equal(passed, 46);
  });

  test(`decode(encode(s)) == s for every vector case, ${label}`, { skip: missing ?? (fs.existsSync(file) ? undefined : `${file} not found`) }, async () => {
    const t = await loadAddon().loadTokenizer(file);
    const { inputs } = readVectors(vec);
    for (const s of inputs) {
      const ids = t.encode(s, false);
      assert.equal(t.decode(ids), s, `round trip of ${JSON.stringify(s)}`);
      assert.equal(t.decode(t.encode(s, true)), s, 'BOS prints nothing');
    }
  });
}

test('tokenizer properties: BOS/EOS/EOT ids and special tokens as plain text', { skip: missing }, async () => {
  const addon = loadAddon();
  const l3 = await addon.loadTokenizer(path.join(tok, 'llama3/tokenizer.model'));
  assert.equal(l3.kind, 'bpe');
  assert.equal(l3.vocabSize, 128256);
  assert.equal(l3.bosId, 128000);
  assert.equal(l3.eosId, 128001);
  assert.equal(l3.eotId, 128009);
  assert.ok(l3.isEog(128009) && l3.isEog(128001) && !l3.isEog(128000));
  assert.deepEqual(Array.from(l3.encode('<|eot_id|>', false, true)), [128009]);
  assert.notDeepEqual(Array.from(l3.encode('<|eot_id|>', false)), [128009]);
  assert.equal(Buffer.from(l3.tokenBytes(9906)).toString('utf8'), 'Hello');
  const l2 = await addon.loadTokenizer(path.join(vectors, 'ggml-vocab-llama-spm.gguf'));
  assert.equal(l2.kind, 'spm');
  assert.equal(l2.vocabSize, 32000);
  assert.equal(l2.bosId, 1);
  assert.equal(l2.eosId, 2);
  assert.deepEqual(Array.from(l2.encode('Hello world', true)), [1, 15043, 3186]);
  assert.equal(l2.tokenText(15043), '▁Hello');
});

test('tokenize --model: llama2.c tokenizer.bin matches the SentencePiece model', { skip: missing }, () => {
  const bin = path.join(tok, 'llama2/tokenizer.bin');
  if (!fs.existsSync(bin)) return;
  const { inputs, expected } = readVectors('ggml-vocab-llama-spm.gguf');
  const got = cliTokenize(bin, inputs);
  // tokenizer.bin has no token types beyond unk/bos/eos/<0xNN>: the same ids for ordinary text.
  for (let i = 0; i < inputs.length; i++) assert.deepEqual(got[i], expected[i], `case ${i} ${JSON.stringify(inputs[i])}`);
});

test('tokenize --model DIR: an HF-style folder is read through its tokenizer.model', { skip: missing }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-tokdir-'));
  fs.copyFileSync(path.join(tok, 'llama3/tokenizer.model'), path.join(dir, 'tokenizer.model'));
  assert.deepEqual(cliTokenize(dir, ['Hello world', '']), [[9906, 1917], []]);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('tokenize: errors go to stderr with a non-zero exit', () => {
  const r = spawnSync(process.execPath, [cliEntry, 'tokenize', '--model', path.join(__dirname, 'tokenize-cli.test.ts')], { input: '"x"\n', encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /BAD_MODEL_FILE/);
  const noModel = spawnSync(process.execPath, [cliEntry, 'tokenize'], { input: '', encoding: 'utf8' });
  assert.equal(noModel.status, 2);
});
