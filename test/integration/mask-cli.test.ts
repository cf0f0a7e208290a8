// The CLI contract of `mask`: stdout is exactly one JSON line {"tokens","pieces","weights"}, the
// row as the trainer sees it (the same as tokenizeForTraining in-process), for each mask mode;
// usage errors exit 2 with a message, unreadable data exits 1 naming the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cliEntry } from '../support/server';
import { bundledGguf, noTestdata, stories, testdataDir } from '../support/testdata';
import { loadAddon } from '../../electron/engine/addon';
import { tokenizeForTraining } from '../../electron/engine/training-rows';
import { readDatasetFile } from '../../electron/core/datasets/read-dataset';
import { chatml } from '../../electron/core/chat/templates';

const cli = (args: string[]) => spawnSync(process.execPath, [cliEntry, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
const storiesArgs = ['--model', stories.bin, '--tokenizer', stories.tok];
const alpaca = path.join(testdataDir, 'datasets/alpaca/alpaca_5000.json');
const oasst = path.join(testdataDir, 'datasets/oasst/en_100_tree.jsonl');

interface MaskOutput {
  tokens: number[];
  pieces: string[];
  weights: number[];
}

function mask(args: string[]): MaskOutput {
  const r = cli(['mask', ...args]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.deepEqual(lines.slice(1), [''], 'exactly one line on stdout');
  const out = JSON.parse(lines[0]) as MaskOutput;
  assert.deepEqual(Object.keys(out), ['tokens', 'pieces', 'weights']);
  assert.equal(out.pieces.length, out.tokens.length);
  assert.equal(out.weights.length, out.tokens.length);
  return out;
}

test('mask: one JSON line, the same row tokenizeForTraining gives in-process (stories260K, Alpaca row 1)', { skip: noTestdata }, async () => {
  const out = mask([...storiesArgs, '--data', alpaca, '--row', '1', '--mode', 'all']);
  const model = await loadAddon().loadModel(stories.bin, { tokenizerPath: stories.tok });
  try {
    const sample = (await readDatasetFile(alpaca)).samples[1];
    assert.deepEqual(out, tokenizeForTraining(model, sample, 'all'));
  } finally {
    model.dispose();
  }
  // The prompt is masked, the reply is trained: "E, G, B<|im_end|>" as tok512 pieces.
  const trained = out.pieces.filter((_, i) => out.weights[i] === 1).join('');
  assert.equal(trained, 'E,▁G,▁B<|im<0x5F>end|>');
  assert.equal(out.weights[0], 0);
  // The bundled GGUF of the same model (no chat template either) gives the same row.
  if (fs.existsSync(bundledGguf)) assert.deepEqual(mask(['--model', bundledGguf, '--data', alpaca, '--row', '1', '--mode', 'all']), out);
});

test('mask --model accepts a bare tokenizer file, as tokenize does (Llama 2 tokenizer.model: ChatML as text)', { skip: noTestdata }, async () => {
  const file = path.join(testdataDir, 'tokenizers/llama2/tokenizer.model');
  const out = mask(['--model', file, '--data', alpaca, '--row', '1', '--mode', 'last']);
  const tok = await loadAddon().loadTokenizer(file);
  const sample = (await readDatasetFile(alpaca)).samples[1];
  assert.deepEqual(out, tokenizeForTraining(tok, sample, 'last', { template: chatml }));
  assert.equal(out.tokens[0], 1);
});

test('mask --mode all|last|gatt on a multi-turn OASST conversation: last = gatt = the final reply of all', { skip: noTestdata }, async () => {
  const conversations = (await readDatasetFile(oasst)).samples;
  const row = conversations.findIndex((s) => s.kind === 'chat' && s.messages.filter((m) => m.role === 'assistant').length >= 2);
  assert.ok(row >= 0);
  const [all, last, gatt] = ['all', 'last', 'gatt'].map((mode) => mask([...storiesArgs, '--data', oasst, '--row', String(row), '--mode', mode]));
  assert.deepEqual(last.tokens, all.tokens);
  assert.deepEqual(gatt, last);
  const firstLast = last.weights.indexOf(1);
  assert.ok(firstLast > 0);
  assert.ok(all.weights.slice(0, firstLast).includes(1), 'all trains an earlier reply too');
  assert.deepEqual(last.weights.slice(firstLast), all.weights.slice(firstLast), 'the final reply is trained the same way');
  assert.ok(!last.weights.slice(0, firstLast).includes(1), 'last trains nothing before it');
});

test('mask: usage errors exit 2 naming the problem; unreadable data exits 1 naming the file', { skip: noTestdata }, () => {
  const outOfRange = cli(['mask', ...storiesArgs, '--data', alpaca, '--row', '5000', '--mode', 'all']);
  assert.equal(outOfRange.status, 2);
  assert.match(outOfRange.stderr, /--row 5000 is out of range: .* has 5000 samples/);
  assert.equal(outOfRange.stdout, '');
  const badMode = cli(['mask', ...storiesArgs, '--data', alpaca, '--row', '0', '--mode', 'some']);
  assert.equal(badMode.status, 2);
  assert.match(badMode.stderr, /--mode must be one of all, last, gatt/);
  assert.equal(cli(['mask', ...storiesArgs, '--row', '0']).status, 2);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-mask-'));
  try {
    const csv = path.join(dir, 'rows.csv');
    // CSV columns that name no known field: the error names the file and the columns it found.
    fs.writeFileSync(csv, 'colour,size\nred,4\n');
    const r = cli(['mask', ...storiesArgs, '--data', csv, '--row', '0', '--mode', 'all']);
    assert.equal(r.status, 1);
    assert.ok(r.stderr.includes(csv) && /columns found: colour, size/.test(r.stderr), r.stderr);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
