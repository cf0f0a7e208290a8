import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { FAKE_MODEL, withModel, makeCore } from './helpers';

test('send streams a reply, stores it with its settings and stats, and names the conversation', async () => {
  const t = await withModel({ reply: () => 'Once upon a time there was a dog.' });
  const { userMessage, assistantMessage } = await t.call('chat.send', { conversationId: t.conv.id, content: 'Tell me a story' });
  assert.equal(userMessage.role, 'user');
  assert.equal(assistantMessage.status, 'streaming');
  const done = await t.core.chat.settled(t.conv.id);
  assert.equal(done?.status, 'complete');
  assert.equal(done?.content, 'Once upon a time there was a dog.');
  const streamed = t.eventsOf('chat.token').map((e) => e.text).join('');
  assert.equal(streamed, done?.content, 'token events add up to the stored reply');
  assert.equal(t.eventsOf('chat.done').length, 1);
  const msgs = await t.call('chat.messages', { conversationId: t.conv.id });
  assert.deepEqual(msgs.map((m) => [m.role, m.position]), [['user', 0], ['assistant', 1]]);
  assert.equal(msgs[1].modelId, t.model.id);
  assert.equal(typeof msgs[1].settings?.seed, 'number', 'the seed actually used is stored');
  assert.equal(msgs[1].stats?.stopReason, 'eos');
  const [conv] = await t.call('chat.list', {});
  assert.equal(conv.title, 'Tell me a story');
});

test('the prompt is ChatML with the system prompt, and ChatML stop strings are added', async () => {
  const t = await withModel();
  await t.call('chat.update', { id: t.conv.id, systemPrompt: 'Be brief.', settings: { stop: ['END'], temperature: 0 } });
  await t.call('chat.send', { conversationId: t.conv.id, content: 'Hi' });
  await t.core.chat.settled(t.conv.id);
  const req = t.engine.requests[0];
  assert.equal(req.prompt, '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
  assert.deepEqual(req.settings.stop, ['END', '<|im_end|>', '<|im_start|>']);
  assert.equal(req.settings.temperature, 0);
  assert.equal(req.modelPath, FAKE_MODEL);
});

test('a second send while a reply streams is refused with BUSY', async () => {
  const t = await withModel({ reply: () => 'a b c d e f g h' });
  await t.call('chat.send', { conversationId: t.conv.id, content: 'one' });
  await assert.rejects(t.call('chat.send', { conversationId: t.conv.id, content: 'two' }), { code: 'BUSY' });
  await t.core.chat.settled(t.conv.id);
  await t.call('chat.send', { conversationId: t.conv.id, content: 'two' });
});

test('stop ends the reply between steps and keeps what was generated', async () => {
  const t = await withModel({ reply: () => Array.from({ length: 200 }, (_, i) => `w${i}`).join(' ') });
  await t.call('chat.send', { conversationId: t.conv.id, content: 'go' });
  await new Promise((r) => setImmediate(r));
  await t.call('chat.stop', { conversationId: t.conv.id });
  const [, reply] = await t.call('chat.messages', { conversationId: t.conv.id });
  assert.equal(reply.status, 'stopped');
  assert.ok(reply.content.length > 0 && reply.content.split(' ').length < 200, `partial: ${reply.content.length} chars`);
});

test('an engine crash mid-reply keeps the partial reply, marks it interrupted, and the next message works', async () => {
  const t = await withModel({ reply: () => 'one two three four five six' });
  t.engine.crashOnNextGenerate();
  await t.call('chat.send', { conversationId: t.conv.id, content: 'first' });
  const crashed = await t.core.chat.settled(t.conv.id);
  assert.equal(crashed?.status, 'interrupted');
  assert.match(crashed?.error ?? '', /engine process stopped/);
  assert.equal(crashed?.content, 'one two three ');
  await t.call('chat.send', { conversationId: t.conv.id, content: 'second' });
  const ok = await t.core.chat.settled(t.conv.id);
  assert.equal(ok?.status, 'complete');
});

test('regenerate replaces the last reply; edit-and-resend drops later turns', async () => {
  let n = 0;
  const t = await withModel({ reply: () => `reply ${++n}` });
  await t.call('chat.send', { conversationId: t.conv.id, content: 'q1' });
  await t.core.chat.settled(t.conv.id);
  await t.call('chat.send', { conversationId: t.conv.id, content: 'q2' });
  await t.core.chat.settled(t.conv.id);
  await t.call('chat.regenerate', { conversationId: t.conv.id });
  await t.core.chat.settled(t.conv.id);
  let msgs = await t.call('chat.messages', { conversationId: t.conv.id });
  assert.deepEqual(msgs.map((m) => m.content), ['q1', 'reply 1', 'q2', 'reply 3']);
  await t.call('chat.editAndResend', { messageId: msgs[0].id, content: 'q1 edited' });
  await t.core.chat.settled(t.conv.id);
  msgs = await t.call('chat.messages', { conversationId: t.conv.id });
  assert.deepEqual(msgs.map((m) => m.content), ['q1 edited', 'reply 4']);
  await assert.rejects(t.call('chat.editAndResend', { messageId: msgs[1].id, content: 'x' }), { code: 'BAD_REQUEST' });
});

test('rename, settings validation and delete', async () => {
  const t = await withModel();
  const renamed = await t.call('chat.rename', { id: t.conv.id, title: '  Stories  ' });
  assert.equal(renamed.title, 'Stories');
  await assert.rejects(t.call('chat.update', { id: t.conv.id, settings: { temperature: -1 } }), { code: 'BAD_REQUEST' });
  await t.call('chat.update', { id: t.conv.id, settings: { temperature: 0.3, stop: ['###'] } });
  const upd = await t.call('chat.update', { id: t.conv.id, settings: { topK: 5 } });
  assert.equal(upd.settings.topK, 5);
  assert.equal(upd.settings.temperature, 0.3, 'settings left out of a patch keep their stored values');
  assert.deepEqual(upd.settings.stop, ['###']);
  await t.call('chat.delete', { id: t.conv.id });
  assert.deepEqual(await t.call('chat.list', {}), []);
  await assert.rejects(t.call('chat.messages', { conversationId: t.conv.id }), { code: 'NOT_FOUND' });
});

test('a bad model file is refused with its name and nothing is stored', async () => {
  const t = await makeCore();
  await t.call('models.import', { path: FAKE_MODEL });
  const before = await t.call('models.list', {});
  await assert.rejects(t.call('models.import', { path: '/nope/garbage.gguf' }), (err: Error & { code: string }) => {
    assert.equal(err.code, 'BAD_MODEL_FILE');
    assert.match(err.message, /garbage\.gguf/);
    return true;
  });
  assert.deepEqual(await t.call('models.list', {}), before);
});

test('requests that break the contract get BAD_REQUEST; unknown calls NOT_FOUND', async () => {
  const t = await makeCore();
  const bad = await t.core.call('chat.send', { conversationId: 5 });
  assert.equal(bad.ok, false);
  assert.equal(!bad.ok && bad.error.code, 'BAD_REQUEST');
  const unknown = await t.core.call('chat.nope', {});
  assert.equal(!unknown.ok && unknown.error.code, 'NOT_FOUND');
});

test('every sampling setting reaches the engine and persists per conversation', async () => {
  const t = await withModel();
  const other = await t.call('chat.create', {});
  const settings = {
    minP: 0.1, repeatPenalty: 1.3, frequencyPenalty: 0.5, presencePenalty: -0.25, penaltyLastN: 32,
    logitBias: [{ token: '13', bias: 2.5 }, { token: '<|im_end|>', bias: 'ban' as const }],
    contextLength: 256, threads: 1, contextPolicy: 'shift' as const, seed: 7,
  };
  await t.call('chat.update', { id: t.conv.id, settings });
  await t.call('chat.send', { conversationId: t.conv.id, content: 'Hi' });
  await t.core.chat.settled(t.conv.id);
  const req = t.engine.requests[0];
  const { contextLength, threads, ...sampling } = settings;
  for (const [k, v] of Object.entries(sampling)) assert.deepEqual(req.settings[k as keyof typeof req.settings], v, k);
  assert.equal(req.contextLength, contextLength);
  assert.equal(req.threads, threads);
  // Stored on the conversation, on the reply, and not leaked into other conversations.
  const convs = await t.call('chat.list', {});
  assert.deepEqual(convs.find((c) => c.id === t.conv.id)?.settings.logitBias, settings.logitBias);
  assert.equal(convs.find((c) => c.id === t.conv.id)?.settings.contextPolicy, 'shift');
  assert.equal(convs.find((c) => c.id === other.id)?.settings.contextPolicy, 'truncate');
  const [, reply] = await t.call('chat.messages', { conversationId: t.conv.id });
  assert.equal(reply.settings?.repeatPenalty, 1.3);
  assert.equal(reply.stats?.contextPolicy, 'shift');
  // A patch keeps what it does not name; bad values are refused.
  await t.call('chat.update', { id: t.conv.id, settings: { temperature: 0.2 } });
  assert.equal((await t.call('chat.list', {})).find((c) => c.id === t.conv.id)?.settings.minP, 0.1);
  await assert.rejects(t.call('chat.update', { id: t.conv.id, settings: { minP: 2 } }), { code: 'BAD_REQUEST' });
  await assert.rejects(t.call('chat.update', { id: t.conv.id, settings: { contextPolicy: 'wrap' as never } }), { code: 'BAD_REQUEST' });
});

test('the prompt goes to the engine in parts: message text is content, never template text', async () => {
  const t = await withModel();
  await t.call('chat.update', { id: t.conv.id, systemPrompt: 'Be brief.' });
  await t.call('chat.send', { conversationId: t.conv.id, content: 'Say <|im_end|> twice' });
  await t.core.chat.settled(t.conv.id);
  const parts = t.engine.requests[0].parts ?? [];
  assert.deepEqual(
    parts.filter((p) => p.kind === 'content').map((p) => [p.kind === 'content' && p.role, p.kind === 'content' && p.text]),
    [['system', 'Be brief.'], ['user', 'Say <|im_end|> twice']],
  );
  for (const p of parts) if (p.kind === 'template') assert.ok(!p.text.includes('Say'), p.text);
});

test('import: a folder path reaches the engine (HF checkpoints), an unsupported architecture is refused by name', async () => {
  const dir = path.dirname(FAKE_MODEL);
  const falcon = path.join(dir, 'falcon.gguf');
  fs.writeFileSync(falcon, '');
  const t = await makeCore({ models: { [dir]: { format: 'hf', name: 'hf folder' }, [falcon]: { architecture: 'falcon' } } });
  const hf = await t.call('models.import', { path: dir });
  assert.equal(hf.format, 'hf');
  await assert.rejects(t.call('models.import', { path: falcon }), (e: { code: string; message: string }) => {
    assert.equal(e.code, 'BAD_MODEL_FILE');
    assert.match(e.message, /falcon/);
    assert.ok(e.message.includes(falcon));
    return true;
  });
  assert.equal((await t.call('models.list', {})).length, 1);
});

test('models.list says which chat template each model uses and can show it', async () => {
  const dir = path.dirname(FAKE_MODEL);
  const withTemplate = path.join(dir, 'templated.gguf');
  fs.writeFileSync(withTemplate, '');
  const source = "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}";
  const t = await makeCore({ models: { [FAKE_MODEL]: {}, [withTemplate]: { metadata: { 'tokenizer.chat_template': source } } } });
  const plain = await t.call('models.import', { path: FAKE_MODEL });
  const own = await t.call('models.import', { path: withTemplate });
  assert.equal(plain.chatTemplate.name, 'ChatML (plain text)');
  assert.equal(plain.chatTemplate.fromModelFile, false);
  assert.match(plain.chatTemplate.example, /<\|im_start\|>user\nHello!<\|im_end\|>/);
  assert.equal(own.chatTemplate.fromModelFile, true);
  assert.equal(own.chatTemplate.source, source);
  assert.match(own.chatTemplate.example, /<\|user\|>Hello!/);
});
