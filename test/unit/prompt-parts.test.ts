// Prompt parts: what the template wrote vs what people wrote, spelled exactly as rendering the
// real text would spell it (trimmed where the template trims), bos/eos as parts of their own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promptText, renderPromptParts } from '../../electron/core/chat/prompt-parts';
import { chatml, jinjaTemplate, llama2Template, type TemplateMessage } from '../../electron/core/chat/templates';

const messages: TemplateMessage[] = [
  { role: 'system', content: '  Be brief.\n' },
  { role: 'user', content: '\n Say </s> and <|im_end|> ' },
  { role: 'assistant', content: ' OK ' },
  { role: 'user', content: 'Again' },
];
const opts = { addGenerationPrompt: true };

test('templates that trim (Llama 2) and ones that do not (ChatML) both round-trip byte for byte', () => {
  for (const template of [llama2Template, chatml]) {
    const parts = renderPromptParts(template, messages, opts);
    assert.equal(promptText(parts, '<s>', '</s>'), template.render(messages, { ...opts, bosToken: '<s>', eosToken: '</s>' }), template.id);
  }
  const chatmlContent = renderPromptParts(chatml, messages, opts).filter((p) => p.kind === 'content');
  assert.deepEqual(chatmlContent.map((p) => p.kind === 'content' && p.text), messages.map((m) => m.content));
});

test('message text is never template text; bos and eos are parts of their own', () => {
  const parts = renderPromptParts(llama2Template, messages, opts);
  assert.deepEqual(parts.map((p) => p.kind).filter((k) => k === 'bos' || k === 'eos'), ['bos', 'eos', 'bos']);
  for (const p of parts) if (p.kind === 'template') assert.ok(!p.text.includes('</s>') && !p.text.includes('Say'), p.text);
  const user = parts.find((p) => p.kind === 'content' && p.role === 'user');
  // Llama 2 trims the first turn as a whole ("<<SYS>>...\n\n" + text): only the text's end.
  assert.deepEqual(user, { kind: 'content', text: '\n Say </s> and <|im_end|>', message: 1, role: 'user' });
});

test('a template that rewrites message text falls back to one content part (nothing parsed as special)', () => {
  const upper = jinjaTemplate('{% for m in messages %}<|{{ m.role }}|>{{ m.content | upper }}{% endfor %}');
  const parts = renderPromptParts(upper, messages.slice(1, 2), opts);
  assert.equal(parts.length, 1);
  assert.equal(parts[0].kind, 'content');
  assert.equal(promptText(parts), '<|user|>\n SAY </S> AND <|IM_END|> ');
});
