// The whole host stack with real parts: browser-mode server, engine process, addon, SQLite file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import type { Conversation, Message, ModelRecord } from '../../electron/shared/contract';
import { enginePidOf, startServer, tempHome, waitFor, type RunningServer } from '../support/server';
import { noTestdata, stories } from '../support/testdata';

function events(s: RunningServer) {
  const got: { event: string; payload: any }[] = [];
  const ws = new WebSocket(`${s.base.replace('http', 'ws')}/api/events?token=${s.token}`);
  const open = new Promise((r) => ws.on('open', r));
  ws.on('message', (d) => got.push(JSON.parse(String(d))));
  const doneFor = (messageId: string) =>
    waitFor(() => got.find((e) => e.event === 'chat.done' && e.payload.message.id === messageId)?.payload.message as Message, `chat.done of ${messageId}`, 60_000);
  return { got, open, doneFor, close: () => ws.close() };
}

test('a reply streams from the bundled stories260K through the real engine and is stored with its timing', async () => {
  const s = await startServer();
  try {
    const ev = events(s);
    await ev.open;
    const models = await s.call<ModelRecord[]>('models.list');
    assert.equal(models.length, 1);
    assert.equal(models[0].bundled, true);
    assert.equal(models[0].layerCount, 5);
    assert.equal(models[0].format, 'gguf');
    const conv = await s.call<Conversation>('chat.create', {});
    await s.call('chat.update', { id: conv.id, settings: { temperature: 0, maxTokens: 60 } });
    const sent = await s.call<{ assistantMessage: Message }>('chat.send', { conversationId: conv.id, content: 'Tell me a story about a cat.' });
    const done = await ev.doneFor(sent.assistantMessage.id);
    assert.equal(done.status, 'complete');
    assert.ok(done.content.length > 20, done.content);
    const streamed = ev.got.filter((e) => e.event === 'chat.token' && e.payload.messageId === done.id).map((e) => e.payload.text).join('');
    assert.equal(streamed, done.content);
    assert.ok(done.stats!.tokensPerSecond > 0 && done.stats!.completionTokens > 0);
    assert.ok(done.stats!.timeToFirstTokenMs > 0);
    ev.close();
  } finally {
    await s.stop();
  }
});

test('importing truncated or garbage model files names the file and the problem; nothing stored changes', { skip: noTestdata }, async () => {
  const home = tempHome();
  const s = await startServer({ home });
  try {
    const before = await s.call<ModelRecord[]>('models.list');
    const dir = fs.mkdtempSync(path.join(home, 'bad-'));
    const truncated = path.join(dir, 'truncated.bin');
    fs.writeFileSync(truncated, fs.readFileSync(stories.bin).subarray(0, 100_000));
    const garbage = path.join(dir, 'garbage.gguf');
    fs.writeFileSync(garbage, Buffer.from('this is not a model at all, just some text that goes on'.repeat(20)));
    const truncGguf = path.join(dir, 'cut.gguf');
    const bundled = before[0].path;
    fs.writeFileSync(truncGguf, fs.readFileSync(bundled).subarray(0, 5000));
    for (const [file, tok, why] of [
      [truncated, stories.tok, /expected|truncated|size|bytes/i],
      [garbage, undefined, /magic|not a|GGUF|header/i],
      [truncGguf, undefined, /truncated|bounds|end of file|expected|size/i],
    ] as const) {
      await assert.rejects(s.call('models.import', { path: file, ...(tok && { tokenizerPath: tok }) }), (err: Error & { code: string }) => {
        assert.equal(err.code, 'BAD_MODEL_FILE');
        assert.ok(err.message.includes(file), `message names the file: ${err.message}`);
        assert.match(err.message, why);
        return true;
      });
    }
    assert.deepEqual(await s.call('models.list'), before);
    const ok = await s.call<ModelRecord>('models.import', { path: stories.bin, tokenizerPath: stories.tok });
    assert.equal(ok.format, 'llama2c');
    assert.equal((await s.call<ModelRecord[]>('models.list')).length, 2);
  } finally {
    await s.stop();
  }
});

test('killing the engine mid-reply keeps the partial reply as interrupted; the next message restarts the engine', async () => {
  const s = await startServer({ env: { PADDOCK_ENGINE_STEP_DELAY_MS: '40' } });
  try {
    const ev = events(s);
    await ev.open;
    const conv = await s.call<Conversation>('chat.create', {});
    await s.call('chat.update', { id: conv.id, settings: { maxTokens: 400, temperature: 0 } });
    const sent = await s.call<{ assistantMessage: Message }>('chat.send', { conversationId: conv.id, content: 'Hello' });
    await waitFor(() => ev.got.filter((e) => e.event === 'chat.token').length >= 5 || undefined, 'a few tokens');
    const pid = enginePidOf(s.proc.pid!);
    assert.ok(pid, 'engine process found');
    process.kill(pid!, 'SIGKILL');
    const done = await ev.doneFor(sent.assistantMessage.id);
    assert.equal(done.status, 'interrupted');
    assert.match(done.error ?? '', /engine process stopped/i);
    assert.ok(done.content.length > 0, 'partial reply kept');
    const stored = (await s.call<Message[]>('chat.messages', { conversationId: conv.id }))[1];
    assert.equal(stored.content, done.content);
    await s.call('chat.update', { id: conv.id, settings: { maxTokens: 10 } });
    const again = await s.call<{ assistantMessage: Message }>('chat.send', { conversationId: conv.id, content: 'Again' });
    const next = await ev.doneFor(again.assistantMessage.id);
    assert.equal(next.status, 'complete');
    assert.notEqual(enginePidOf(s.proc.pid!), pid);
    ev.close();
  } finally {
    await s.stop();
  }
});
