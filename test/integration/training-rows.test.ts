// Training samples -> tokens and loss weights with real tokenizers. The golden is axolotl's
// Llama-2-chat tokenization and labels of a 12-turn ShareGPT conversation (Llama 2 tokenizer,
// Llama 2's legacy default system prompt passed explicitly, as that golden used it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadAddon, type NativeModel, type NativeTokenizer } from '../../electron/engine/addon';
import { tokenizeForTraining } from '../../electron/engine/training-rows';
import { chatml, jinjaTemplate, llama2Template, llama3Template } from '../../electron/core/chat/templates';
import { readDatasetFile } from '../../electron/core/datasets/read-dataset';
import type { ChatMessage } from '../../electron/core/datasets/sample';
import { LLAMA2_LEGACY_SYSTEM, noTestdata, stories, testdataDir } from '../support/testdata';

const tokenizers = path.join(testdataDir, 'tokenizers');
const axolotl = path.join(testdataDir, 'datasets/sharegpt/axolotl');


/** The trained tokens as runs of consecutive indices. */
function spans(weights: number[]): [number, number][] {
  const out: [number, number][] = [];
  weights.forEach((w, i) => {
    if (!w) return;
    const last = out[out.length - 1];
    if (last && last[1] === i) last[1] = i + 1;
    else out.push([i, i + 1]);
  });
  return out;
}

/** The text of tokens [a, b) (decode drops the leading dummy-prefix space: this does not). */
const decodeSpan = (tok: NativeTokenizer, tokens: number[], [a, b]: [number, number]) =>
  Buffer.concat(tokens.slice(a, b).map((t) => tok.tokenBytes(t))).toString('utf8');

for (const [label, file] of [
  ['tokenizer.model', 'llama2/tokenizer.model'],
  ['vocab-only GGUF', 'llamacpp-vectors/ggml-vocab-llama-spm.gguf'],
] as const) {
  test(`golden: axolotl's Llama-2-chat input_ids and labels of the 12-turn conversation (Llama 2 ${label})`, { skip: noTestdata }, async () => {
    const tok = await loadAddon().loadTokenizer(path.join(tokenizers, file));
    const golden = JSON.parse(fs.readFileSync(path.join(axolotl, 'conversation.tokenized_llama2chat.json'), 'utf8')) as {
      input_ids: number[];
      labels: number[];
      attention_mask: boolean[];
    };
    const n = golden.attention_mask.indexOf(false); // 2,056 real tokens, then padding
    assert.equal(n, 2056);
    const [sample] = (await readDatasetFile(path.join(axolotl, 'conversation.json'))).samples;
    assert.equal(sample.kind, 'chat');
    const messages: ChatMessage[] = [{ role: 'system', content: LLAMA2_LEGACY_SYSTEM }, ...(sample.kind === 'chat' ? sample.messages : [])];
    const out = tokenizeForTraining(tok, { kind: 'chat', messages }, 'all', { template: llama2Template });

    // The one difference: FastChat's Llama 2 separator (axolotl's golden) closes the last reply with
    // "</s><s>", and the golden trains that trailing BOS too. Paddock's template (Meta's) ends a reply
    // with "</s>": teaching a model to predict BOS after EOS would be wrong. Everything before is equal.
    assert.equal(out.tokens.length, n - 1);
    assert.deepEqual(golden.input_ids.slice(n - 3, n), [29871, 2, 1], 'the golden ends " </s><s>"');
    assert.notEqual(golden.labels[n - 1], -100, 'and trains the trailing <s>');
    assert.deepEqual(out.tokens, golden.input_ids.slice(0, n - 1));
    assert.deepEqual(out.weights, golden.labels.slice(0, n - 1).map((l) => (l === -100 ? 0 : 1)));

    // What the golden trains: each answer with its "▁" and </s> (6 replies), never BOS, [INST] or the user text.
    const trained = spans(out.weights);
    assert.equal(trained.length, 6);
    for (const [i, [, b]] of trained.entries()) {
      assert.deepEqual(out.tokens.slice(b - 2, b), [29871, 2], `reply ${i} ends with "▁" and </s>`);
      assert.equal(decodeSpan(tok, out.tokens, trained[i]), ` ${messages[2 + 2 * i].content} `, '"▁" merged into the first word, the answer, "▁", </s> (prints nothing)');
    }
    assert.equal(out.pieces[0], '<s>');
    assert.equal(out.pieces.length, out.tokens.length);
  });
}

test('mask modes: all trains every reply, last and gatt only the final one (GAtt: every earlier turn, replies included, at 0)', { skip: noTestdata }, async () => {
  const tok = await loadAddon().loadTokenizer(path.join(tokenizers, 'llama2/tokenizer.model'));
  const messages: ChatMessage[] = [
    { role: 'system', content: 'Always answer in French.' },
    { role: 'user', content: 'Hello!' },
    { role: 'assistant', content: 'Bonjour !' },
    { role: 'user', content: 'How are you?' },
    { role: 'assistant', content: 'Très bien, merci.' },
  ];
  const sample = { kind: 'chat' as const, messages };
  const all = tokenizeForTraining(tok, sample, 'all', { template: llama2Template });
  const last = tokenizeForTraining(tok, sample, 'last', { template: llama2Template });
  const gatt = tokenizeForTraining(tok, sample, 'gatt', { template: llama2Template });
  assert.deepEqual(last.tokens, all.tokens);
  assert.deepEqual(gatt, last);
  assert.deepEqual(spans(all.weights).map((s) => decodeSpan(tok, all.tokens, s)), [' Bonjour ! ', ' Très bien, merci. '], 'reply, " ", </s>');
  assert.deepEqual(spans(last.weights), spans(all.weights).slice(1));
  assert.equal(all.tokens[spans(all.weights)[0][1] - 1], tok.eosId, 'the </s> closing a reply is trained');
});

test('per-message train flags: all skips replies marked train=false; gatt trains only the last reply whatever earlier flags say', { skip: noTestdata }, async () => {
  const tok = await loadAddon().loadTokenizer(path.join(tokenizers, 'llama2/tokenizer.model'));
  const turns = (flags: boolean[]): ChatMessage[] => [
    { role: 'system', content: 'Figure: Napoleon' },
    ...flags.flatMap((train, i) => [
      { role: 'user' as const, content: `Question ${i + 1}?` },
      { role: 'assistant' as const, content: `Answer ${i + 1}.`, train },
    ]),
  ];
  const texts = (flags: boolean[], mode: 'all' | 'last' | 'gatt') => {
    const out = tokenizeForTraining(tok, { kind: 'chat', messages: turns(flags) }, mode, { template: llama2Template });
    return spans(out.weights).map((s) => decodeSpan(tok, out.tokens, s));
  };
  assert.deepEqual(texts([true, true, true], 'all'), [' Answer 1. ', ' Answer 2. ', ' Answer 3. ']);
  assert.deepEqual(texts([true, false, true], 'all'), [' Answer 1. ', ' Answer 3. '], 'OpenAI "weight": 0 turns are context only');
  assert.deepEqual(texts([false, false, true], 'all'), texts([true, true, true], 'gatt'), 'a GAtt row (earlier replies train=false) trains the same under all and gatt');
  assert.deepEqual(texts([true, true, true], 'gatt'), [' Answer 3. ']);
  assert.deepEqual(texts([true, true, false], 'gatt'), [], 'a final reply marked train=false trains nothing');
  assert.deepEqual(texts([true, true, false], 'last'), []);
});

test('Llama 3: the reply and its <|eot_id|> are trained, the assistant header is not; special-token text in a message stays text', { skip: noTestdata }, async () => {
  const tok = await loadAddon().loadTokenizer(path.join(tokenizers, 'llama3/tokenizer.model'));
  const messages: ChatMessage[] = [
    { role: 'user', content: 'Say <|eot_id|> please.' },
    { role: 'assistant', content: 'Here: <|eot_id|>' },
  ];
  const out = tokenizeForTraining(tok, { kind: 'chat', messages }, 'all', { template: llama3Template, dateString: '26 Jul 2024' });
  const trained = spans(out.weights);
  assert.equal(trained.length, 1);
  const [a, b] = trained[0];
  assert.equal(b, out.tokens.length, 'the reply is the last thing in the row');
  assert.equal(out.pieces[b - 1], '<|eot_id|>');
  assert.equal(out.tokens[b - 1], tok.eotId);
  assert.deepEqual(out.pieces.slice(a - 4, a), ['<|start_header_id|>', 'assistant', '<|end_header_id|>', 'ĊĊ']);
  assert.equal(tok.decode(out.tokens.slice(a, b - 1)), 'Here: <|eot_id|>', 'the text "<|eot_id|>" in a message is not the special token');
  assert.equal(out.tokens.filter((t) => t === tok.eotId).length, 3, 'system, user and assistant turns each end with the real one');
  assert.equal(out.tokens[0], tok.bosId);
  // Meta's own Jinja template (from a model file) gives the same row.
  const source = fs.readFileSync(path.join(tokenizers, 'chat_templates/meta-llama-Llama-3.1-8B-Instruct.jinja'), 'utf8');
  assert.deepEqual(tokenizeForTraining(tok, { kind: 'chat', messages }, 'all', { template: jinjaTemplate(source), dateString: '26 Jul 2024' }), out);
});

test('stories260K (no chat template): ChatML as plain text, the reply and the text "<|im_end|>" are trained; text and completion samples', { skip: noTestdata }, async () => {
  const model: NativeModel = await loadAddon().loadModel(stories.bin, { tokenizerPath: stories.tok });
  const tok = await loadAddon().loadTokenizer(stories.tok);
  try {
    const alpaca = await readDatasetFile(path.join(testdataDir, 'datasets/alpaca/alpaca_5000.json'));
    const sample = alpaca.samples[1]; // "Arrange the following musical notes" / "G, B, E" -> "E, G, B"
    const out = tokenizeForTraining(model, sample, 'all');
    assert.deepEqual(out, tokenizeForTraining(tok, sample, 'all', { template: chatml }), 'a model and its bare tokenizer agree');
    assert.equal(out.tokens[0], model.info.bosId);
    const trained = spans(out.weights);
    assert.equal(trained.length, 1);
    assert.equal(decodeSpan(tok, out.tokens, trained[0]), 'E, G, B<|im_end|>');
    assert.equal(tok.decode(out.tokens.slice(trained[0][1])), '\n', 'the newline after <|im_end|> is not trained');
    assert.ok(tok.decode(out.tokens.slice(0, trained[0][0])).endsWith('<|im_start|>assistant\n'));

    const text = tokenizeForTraining(model, { kind: 'text', text: 'Once upon a time' }, 'all');
    assert.deepEqual(text.tokens, [model.info.bosId, ...model.tokenize('Once upon a time', false), model.info.eosId]);
    assert.deepEqual(text.weights, [0, ...text.tokens.slice(1).map(() => 1)]);

    const completion = tokenizeForTraining(model, { kind: 'completion', prompt: 'Once upon a', completion: ' time there was a dog.' }, 'last');
    assert.equal(completion.tokens[completion.tokens.length - 1], model.info.eosId);
    const [span, ...more] = spans(completion.weights);
    assert.deepEqual(more, []);
    assert.equal(span[1], completion.tokens.length, 'EOS is trained');
    assert.equal(decodeSpan(tok, completion.tokens, [span[0], span[1] - 1]), ' time there was a dog.');
    assert.equal(tok.decode(completion.tokens.slice(1, span[0])), 'Once upon a');
  } finally {
    model.dispose();
  }
});
