// The datasets workbench on the real engine process (real addon): tokenizeSamples counts equal
// tokenizeForTraining's lengths (stories260K GGUF, the Llama 2 tokenizer file), validation and
// the mask preview through it, and axolotl's Llama-2-chat golden (input ids and labels).
//
// The golden, exactly: axolotl's Llama-2-chat strategy (FastChat's "llama-2" separators) writes
// " </s><s>" after EVERY reply, the last one included, so its input ends "▁ </s> <s>" (2,056 ids).
// Its mask only blanks each turn's instruction span; the <s> after a middle reply falls in the
// next turn's instruction span and is blanked, the final <s> has no next turn and keeps its label:
// the golden trains "predict BOS after the last EOS" once, as an artifact. Meta's Llama 2 format
// (Paddock's built-in template) closes the last reply with " </s>" and nothing after. So:
// - Paddock's template: ids and labels equal the golden's first 2,055 exactly;
// - the golden's own separators (as a Jinja template given to tokenizeSamples): all 2,056 ids
//   equal, and the labels equal under the one rule Paddock keeps everywhere: BOS is never a
//   target (which changes exactly the golden's last label and nothing else).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ProcessEngine } from '../../electron/core/engine/process-engine';
import { loadAddon, type NativeModel, type NativeTokenizer } from '../../electron/engine/addon';
import { tokenizeForTraining } from '../../electron/engine/training-rows';
import { llama2Template } from '../../electron/core/chat/templates';
import { validateDataset, type RowForValidation } from '../../electron/core/datasets/validate-dataset';
import { maskPreview } from '../../electron/core/datasets/mask-preview';
import type { ModelRecordLike } from '../../electron/core/datasets/validation-types';
import type { ChatMessage, TrainingSample } from '../../electron/core/datasets/sample';
import { LLAMA2_LEGACY_SYSTEM, bundledGguf, noTestdata, stories, testdataDir } from '../support/testdata';

const llama2Tokenizer = path.join(testdataDir, 'tokenizers/llama2/tokenizer.model');
const axolotl = path.join(testdataDir, 'datasets/sharegpt/axolotl');


/** FastChat's / axolotl's Llama-2 layout: Meta's, except that every reply is followed by "</s><s>". */
const FASTCHAT_LLAMA2_JINJA =
  "{%- if messages[0]['role'] == 'system' -%}{%- set sys = '<<SYS>>\\n' + messages[0]['content'] | trim + '\\n<</SYS>>\\n\\n' -%}{%- set rest = messages[1:] -%}" +
  "{%- else -%}{%- set sys = '' -%}{%- set rest = messages -%}{%- endif -%}" +
  '{{ bos_token }}{%- for m in rest -%}' +
  "{%- if m['role'] == 'user' -%}[INST] {{ (sys if loop.first else '') + m['content'] | trim }} [/INST]" +
  "{%- else %} {{ m['content'] | trim }} {{ eos_token }}{{ bos_token }}{%- endif -%}{%- endfor -%}";

let engine: ProcessEngine;
before(() => {
  engine = new ProcessEngine();
});
after(async () => {
  await engine?.close();
});

const goldenSample = (): { messages: ChatMessage[]; golden: { input_ids: number[]; labels: number[]; attention_mask: boolean[] } } => {
  const conv = JSON.parse(fs.readFileSync(path.join(axolotl, 'conversation.json'), 'utf8')) as { conversations: { from: string; value: string }[] };
  const messages: ChatMessage[] = [
    { role: 'system', content: LLAMA2_LEGACY_SYSTEM },
    ...conv.conversations.map((t): ChatMessage => ({ role: t.from === 'human' ? 'user' : 'assistant', content: t.value })),
  ];
  const golden = JSON.parse(fs.readFileSync(path.join(axolotl, 'conversation.tokenized_llama2chat.json'), 'utf8'));
  return { messages, golden };
};

/** Alpaca rows as chat samples, plus a text and a completion sample. */
function someSamples(n: number): TrainingSample[] {
  const alpaca = JSON.parse(fs.readFileSync(path.join(testdataDir, 'datasets/alpaca/alpaca_5000.json'), 'utf8')) as { instruction: string; input: string; output: string }[];
  return [
    ...alpaca.slice(0, n).map((r): TrainingSample => ({
      kind: 'chat',
      messages: [
        { role: 'user', content: r.input ? `${r.instruction}\n\n${r.input}` : r.instruction },
        { role: 'assistant', content: r.output },
      ],
    })),
    { kind: 'text', text: 'Once upon a time there was a dog.' },
    { kind: 'completion', prompt: 'Once upon a', completion: ' time.' },
  ];
}

test('golden through tokenizeSamples: Paddock\'s Llama 2 template gives axolotl\'s first 2,055 ids and labels exactly', { skip: noTestdata }, async () => {
  const { messages, golden } = goldenSample();
  const n = golden.attention_mask.indexOf(false);
  assert.equal(n, 2056);
  const out = await engine.call('tokenizeSamples', { modelPath: llama2Tokenizer, tokenizerPath: null, samples: [{ kind: 'chat', messages }], mode: 'all', detail: true, template: 'llama2' });
  assert.equal(out.template, 'Llama 2');
  const [row] = out.rows;
  assert.equal(row.error, undefined);
  assert.equal(row.count, n - 1);
  assert.deepEqual(row.tokens, golden.input_ids.slice(0, n - 1));
  assert.deepEqual(row.weights, golden.labels.slice(0, n - 1).map((l) => (l === -100 ? 0 : 1)));
  assert.deepEqual(golden.input_ids.slice(n - 3, n), [29871, 2, 1], 'what is left: the golden\'s trailing "▁ </s> <s>" has one more token, the <s>');
});

test('golden through tokenizeSamples: with the golden\'s own separators, all 2,056 ids equal and the labels equal with "BOS is never a target"', { skip: noTestdata }, async () => {
  const { messages, golden } = goldenSample();
  const n = golden.attention_mask.indexOf(false);
  const out = await engine.call('tokenizeSamples', { modelPath: llama2Tokenizer, tokenizerPath: null, samples: [{ kind: 'chat', messages }], mode: 'all', detail: true, template: FASTCHAT_LLAMA2_JINJA });
  const [row] = out.rows;
  assert.equal(row.error, undefined);
  assert.deepEqual(row.tokens, golden.input_ids.slice(0, n), 'every input id, the trailing <s> included');
  const BOS = 1;
  const expected = golden.labels.slice(0, n).map((l, i) => (l === -100 || golden.input_ids[i] === BOS ? 0 : 1));
  assert.deepEqual(row.weights, expected);
  // The rule changes exactly one golden label: the final <s> (every other <s> is already -100 there).
  const raw = golden.labels.slice(0, n).map((l) => (l === -100 ? 0 : 1));
  const differ = raw.flatMap((w, i) => (w !== expected[i] ? [i] : []));
  assert.deepEqual(differ, [n - 1]);
  assert.equal(golden.input_ids[n - 1], BOS);
  assert.equal(golden.input_ids.slice(0, n).filter((t) => t === BOS).length, 7, 'BOS opens each of the 6 turns and closes the last reply');
  // Mask modes through the same path: last/gatt train only the final reply, "▁" and </s>.
  const last = await engine.call('tokenizeSamples', { modelPath: llama2Tokenizer, tokenizerPath: null, samples: [{ kind: 'chat', messages }], mode: 'last', detail: true, template: FASTCHAT_LLAMA2_JINJA });
  const firstTrained = last.rows[0].weights!.indexOf(1);
  assert.equal(firstTrained, 1649, 'the last reply starts where the golden\'s last trained span does');
  assert.equal(last.rows[0].weights!.slice(firstTrained).filter((w) => w === 0).length, 1, 'all of it but the trailing <s>');
});

test('tokenizeSamples counts equal tokenizeForTraining lengths: stories260K GGUF (its own template), its llama2.c checkpoint, the Llama 2 tokenizer file', { skip: noTestdata }, async () => {
  const samples = someSamples(40);
  const addon = loadAddon();
  const model: NativeModel = await addon.loadModel(bundledGguf);
  try {
    const out = await engine.call('tokenizeSamples', { modelPath: bundledGguf, tokenizerPath: null, samples, mode: 'all', detail: false });
    assert.equal(out.template, 'ChatML (plain text)', 'stories260K has no template of its own');
    assert.deepEqual(out.rows.map((r) => r.count), samples.map((s) => tokenizeForTraining(model, s, 'all').tokens.length));
    assert.ok(out.rows.every((r) => r.tokens === undefined), 'counts only without detail');
    for (const mode of ['all', 'last', 'gatt'] as const) {
      const detail = await engine.call('tokenizeSamples', { modelPath: bundledGguf, tokenizerPath: null, samples: samples.slice(0, 3), mode, detail: true });
      detail.rows.forEach((r, i) => {
        const want = tokenizeForTraining(model, samples[i], mode);
        assert.deepEqual({ tokens: r.tokens, pieces: r.pieces, weights: r.weights }, { tokens: want.tokens, pieces: want.pieces, weights: want.weights });
      });
    }
  } finally {
    model.dispose();
  }
  // A llama2.c checkpoint: the weights file plus its tokenizer.bin.
  const bin = await addon.loadModel(stories.bin, { tokenizerPath: stories.tok });
  try {
    const out = await engine.call('tokenizeSamples', { modelPath: stories.bin, tokenizerPath: stories.tok, samples, mode: 'all', detail: false });
    assert.deepEqual(out.rows.map((r) => r.count), samples.map((s) => tokenizeForTraining(bin, s, 'all').tokens.length));
  } finally {
    bin.dispose();
  }
  const tok: NativeTokenizer = await addon.loadTokenizer(llama2Tokenizer);
  const out = await engine.call('tokenizeSamples', { modelPath: llama2Tokenizer, tokenizerPath: null, samples, mode: 'all', detail: false, template: 'llama2' });
  assert.deepEqual(out.rows.map((r) => r.count), samples.map((s) => tokenizeForTraining(tok, s, 'all', { template: llama2Template }).tokens.length));
});

test('tokenizeSamples: a sample the template refuses gets its own error, the others their counts; a missing file fails naming it', { skip: noTestdata }, async () => {
  const strict = "{%- for m in messages -%}{%- if (m['role'] == 'user') != (loop.index0 % 2 == 0) -%}{{ raise_exception('Conversation roles must alternate user/assistant') }}{%- endif -%}{{ m['content'] }}{{ eos_token }}{%- endfor -%}";
  const out = await engine.call('tokenizeSamples', {
    modelPath: bundledGguf, tokenizerPath: null, mode: 'all', detail: false, template: strict,
    samples: [
      { kind: 'chat', messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }] },
      { kind: 'chat', messages: [{ role: 'assistant', content: 'hello' }, { role: 'user', content: 'hi' }] },
    ],
  });
  assert.ok(out.rows[0].count > 0 && out.rows[0].error === undefined);
  assert.equal(out.rows[1].count, 0);
  assert.match(out.rows[1].error ?? '', /roles must alternate/);
  await assert.rejects(
    engine.call('tokenizeSamples', { modelPath: '/nonexistent/model.gguf', tokenizerPath: null, samples: [], mode: 'all', detail: false }),
    /\/nonexistent\/model\.gguf/,
  );
});

test('validateDataset and maskPreview on the real engine: too_long with the model\'s tokenizer, the preview of each mode', { skip: noTestdata }, async () => {
  const addon = loadAddon();
  const info = await addon.readModelInfo(bundledGguf);
  const model: ModelRecordLike = {
    id: 'stories', path: bundledGguf, tokenizerPath: null, contextLength: info.contextLength,
    chatTemplate: { id: 'chatml', name: 'ChatML (plain text)', fromModelFile: false, source: null, example: '' },
  };
  const samples = someSamples(300).filter((s): s is Extract<TrainingSample, { kind: 'chat' }> => s.kind === 'chat');
  const rows: RowForValidation[] = samples.map((s, i) => ({ id: `r${i}`, kind: 'chat', split: null, messages: s.messages.map((m) => ({ ...m, train: true })) }));
  const progress: number[] = [];
  const out = await validateDataset(rows, { engine, model, maxTokens: 100, nearDuplicateThreshold: 0.8, onProgress: (d) => progress.push(d) });
  assert.deepEqual(progress, [256, 300]);
  const local = await addon.loadModel(bundledGguf);
  try {
    const counts = samples.map((s) => tokenizeForTraining(local, s, 'all').tokens.length);
    assert.deepEqual(rows.map((r) => out.tokens?.get(r.id)), counts);
    const long = rows.filter((_, i) => counts[i] > 100).map((r) => r.id);
    assert.ok(long.length > 0 && long.length < rows.length, `${long.length} rows over 100 tokens`);
    assert.deepEqual(rows.filter((r) => out.problems.get(r.id)!.includes('too_long')).map((r) => r.id), long);

    const conversation = {
      kind: 'chat' as const,
      messages: [
        { role: 'system' as const, content: 'Speak like a pirate.', train: true },
        { role: 'user' as const, content: 'Hi', train: true },
        { role: 'assistant' as const, content: 'Ahoy!', train: true },
        { role: 'user' as const, content: 'Bye', train: true },
        { role: 'assistant' as const, content: 'Farewell, matey.', train: true },
      ],
    };
    const trainedText = (p: { pieces: string[]; weights: number[] }) => p.pieces.filter((_, i) => p.weights[i] > 0).join('');
    const all = await maskPreview(engine, model, conversation, 'all');
    const last = await maskPreview(engine, model, conversation, 'last');
    const gatt = await maskPreview(engine, model, conversation, 'gatt');
    assert.equal(all.template, 'ChatML (plain text)');
    assert.deepEqual(all.tokens, last.tokens);
    assert.equal(all.tokens.length, all.pieces.length);
    const want = tokenizeForTraining(local, { kind: 'chat', messages: conversation.messages }, 'all');
    assert.deepEqual(all.weights, want.weights);
    assert.ok(all.weights.filter((w) => w > 0).length > last.weights.filter((w) => w > 0).length, 'all trains both replies, last only the final one');
    assert.match(trainedText(last).replace(/▁/g, ' '), /Farewell, matey\./);
    assert.doesNotMatch(trainedText(last).replace(/▁/g, ' '), /Ahoy/);
    assert.doesNotMatch(trainedText(gatt).replace(/▁/g, ' '), /Ahoy/, 'GAtt masks every earlier turn, replies included');
  } finally {
    local.dispose();
  }
});
