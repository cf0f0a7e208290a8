import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chatml, jinjaTemplate, llama2Template, llama3Template, templateForModel } from '../../electron/core/chat/templates';
import { noTestdata, testdataDir } from '../support/testdata';

const conversation = [
  { role: 'system' as const, content: 'You are a helpful assistant who answers in French.' },
  { role: 'user' as const, content: 'What is the capital of France?' },
  { role: 'assistant' as const, content: 'La capitale de la France est Paris.' },
  { role: 'user' as const, content: ' And of Italy? ' },
  { role: 'assistant' as const, content: "C'est Rome." },
  { role: 'user' as const, content: 'Thanks!' },
];
const pinned = { addGenerationPrompt: true, bosToken: '<|begin_of_text|>', eosToken: '<|eot_id|>', dateString: '26 Jul 2024' };

for (const file of ['meta-llama-Llama-3.1-8B-Instruct.jinja', 'meta-llama-Llama-3.2-3B-Instruct.jinja']) {
  test(`built-in Llama 3 template renders byte-identically to ${file} (3 turns + system)`, { skip: noTestdata }, () => {
    const source = fs.readFileSync(path.join(testdataDir, 'tokenizers/chat_templates', file), 'utf8');
    const reference = jinjaTemplate(source).render(conversation, pinned);
    assert.equal(llama3Template.render(conversation, pinned), reference);
    assert.ok(reference.startsWith('<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n'));
    assert.ok(reference.endsWith('<|start_header_id|>assistant<|end_header_id|>\n\n'));
    const noGen = { ...pinned, addGenerationPrompt: false };
    assert.equal(llama3Template.render(conversation.slice(0, 5), noGen), jinjaTemplate(source).render(conversation.slice(0, 5), noGen));
  });
}

test('Llama 2 template: system prompt in the first [INST], replies closed by EOS', () => {
  const out = llama2Template.render(conversation.slice(0, 4), { addGenerationPrompt: true, bosToken: '<s>', eosToken: '</s>' });
  assert.equal(
    out,
    '<s>[INST] <<SYS>>\nYou are a helpful assistant who answers in French.\n<</SYS>>\n\nWhat is the capital of France? [/INST] La capitale de la France est Paris. </s><s>[INST] And of Italy? [/INST]',
  );
});

test('models without a template of their own chat in ChatML; a GGUF template is used when present', () => {
  assert.equal(templateForModel({}).id, 'chatml');
  assert.equal(
    chatml.render([{ role: 'user', content: 'hi' }], { addGenerationPrompt: true, bosToken: '', eosToken: '' }),
    '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n',
  );
  const t = templateForModel({ 'tokenizer.chat_template': '{% for m in messages %}<<{{ m.role }}:{{ m.content }}>>{% endfor %}<|im_end|>' });
  assert.equal(t.id, 'jinja');
  assert.deepEqual(t.stopStrings, ['<|im_end|>']);
  assert.equal(t.render([{ role: 'user', content: 'x' }], pinned), '<<user:x>><|im_end|>');
  assert.equal(templateForModel({ 'tokenizer.chat_template': '{% if %}' }).id, 'chatml', 'unparseable template falls back');
});
