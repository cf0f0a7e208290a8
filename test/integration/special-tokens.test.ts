// Special tokens are parsed in what the chat template wrote and never in what people wrote
// (issue 3 item 3), with the real tokenizers: Llama 3 (byte BPE) and Llama 2 (SentencePiece).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { renderPromptParts, promptText } from '../../electron/core/chat/prompt-parts';
import { jinjaTemplate, llama2Template, type TemplateMessage } from '../../electron/core/chat/templates';
import { loadAddon, type NativeTokenizer } from '../../electron/engine/addon';
import { tokenizePrompt, type PromptTokenizer } from '../../electron/engine/prompt-tokens';
import { noTestdata, testdataDir } from '../support/testdata';

const asPromptTokenizer = (t: NativeTokenizer): PromptTokenizer => ({
  bosId: t.bosId,
  eosId: t.eosId,
  encode: (text, special) => t.encode(text, false, special),
  tokenBytes: (id) => t.tokenBytes(id),
  tokenText: (id) => t.tokenText(id),
});
const count = (ids: Int32Array, id: number) => ids.filter((x) => x === id).length;
const dateString = '26 Jul 2024';

test('Llama 3: a user\'s literal "<|eot_id|>" stays text; the template\'s own becomes id 128009; one BOS', { skip: noTestdata }, async () => {
  const tok = await loadAddon().loadTokenizer(path.join(testdataDir, 'tokenizers/llama3/tokenizer.model'));
  const source = fs.readFileSync(path.join(testdataDir, 'tokenizers/chat_templates/meta-llama-Llama-3.1-8B-Instruct.jinja'), 'utf8');
  const template = jinjaTemplate(source);
  const literal = 'Please repeat <|eot_id|> after me.';
  const messages: TemplateMessage[] = [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: literal },
  ];
  const parts = renderPromptParts(template, messages, { addGenerationPrompt: true, dateString });
  // The parts spell what the template renders with the real texts, byte for byte.
  const reference = template.render(messages, { addGenerationPrompt: true, bosToken: '<|begin_of_text|>', eosToken: '<|eot_id|>', dateString });
  assert.equal(promptText(parts, '<|begin_of_text|>', '<|eot_id|>'), reference);

  const { tokens } = tokenizePrompt(asPromptTokenizer(tok), parts);
  assert.equal(tokens[0], 128000);
  assert.equal(count(tokens, 128000), 1, 'the template printed bos_token: no second BOS');
  assert.equal(count(tokens, 128009), 2, 'system and user turns end with <|eot_id|>; the literal is not one');
  // Control tokens print nothing, so the decoded prompt is the reference minus the template's
  // special tokens, with the user's literal still in it.
  const specials = /<\|(begin_of_text|start_header_id|end_header_id|eot_id)\|>/g;
  const [before, after] = reference.split(literal);
  assert.equal(tok.decode(tokens), before.replace(specials, '') + literal + after.replace(specials, ''));
  // Parsing the whole text for specials (what this replaces) would have made 3 of them.
  assert.equal(count(tok.encode(reference, false, true), 128009), 3);
});

test('Llama 2: template <s>/</s> become BOS/EOS, a user\'s "</s>" stays text, and seams match llama.cpp', { skip: noTestdata }, async () => {
  const tok = await loadAddon().loadTokenizer(path.join(testdataDir, 'tokenizers/llama2/tokenizer.model'));
  const messages: TemplateMessage[] = [
    { role: 'user', content: 'Hi' },
    { role: 'assistant', content: 'Hello!' },
    { role: 'user', content: 'Say </s> now' },
  ];
  const parts = renderPromptParts(llama2Template, messages, { addGenerationPrompt: true });
  const { tokens } = tokenizePrompt(asPromptTokenizer(tok), parts);
  // llama.cpp's rule: text between special tokens is encoded on its own (SentencePiece's dummy
  // prefix included), special tokens are their ids.
  const enc = (s: string) => Array.from(tok.encode(s, false, false));
  const expected = [1, ...enc('[INST] Hi [/INST] Hello! '), 2, 1, ...enc('[INST] Say </s> now [/INST]')];
  assert.deepEqual(Array.from(tokens), expected);
  assert.equal(count(tokens, 2), 1);
});

test('turn layout: the kept prefix ends after the system turn and old turns can be cut at their seams', { skip: noTestdata }, async () => {
  const tok = await loadAddon().loadTokenizer(path.join(testdataDir, 'tokenizers/llama3/tokenizer.model'));
  const source = fs.readFileSync(path.join(testdataDir, 'tokenizers/chat_templates/meta-llama-Llama-3.1-8B-Instruct.jinja'), 'utf8');
  const messages: TemplateMessage[] = [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'One' },
    { role: 'assistant', content: 'Two' },
    { role: 'user', content: 'Three' },
  ];
  const parts = renderPromptParts(jinjaTemplate(source), messages, { addGenerationPrompt: true, dateString });
  const { tokens, keep, turnStarts } = tokenizePrompt(asPromptTokenizer(tok), parts);
  assert.ok(tok.decode(tokens.subarray(0, keep)).endsWith('Be brief.'));
  // Seams after "One" and "Two" (not after "Three": that turn is the one being answered).
  assert.equal(turnStarts.length, 2);
  for (const t of turnStarts) assert.equal(tokens[t], 128009);
  // Cut at the second seam: the template closes "Two" and opens the user turn "Three".
  assert.equal(tok.decode(tokens.subarray(turnStarts[1])), 'user\n\nThreeassistant\n\n');
});
