import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { startWebHost } from '../../electron/web/web-host';
import { withModel } from './helpers';

async function hostWithRenderer() {
  const t = await withModel({ reply: () => 'hello from the fake engine' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-renderer-'));
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>Paddock</title>');
  const web = await startWebHost({ core: t.core, rendererDir: dir });
  const base = `http://127.0.0.1:${web.port}`;
  const call = (name: string, body: unknown, token = web.token) =>
    fetch(`${base}/api/call/${name}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
  return { ...t, web, base, call };
}

test('browser mode binds to 127.0.0.1, serves the renderer with a CSP, and prints a URL carrying the token', async () => {
  const h = await hostWithRenderer();
  try {
    assert.match(h.web.url, new RegExp(`^http://127\\.0\\.0\\.1:${h.web.port}/\\?token=${h.web.token}$`));
    assert.ok(h.web.token.length >= 24);
    const page = await fetch(`${h.base}/some/route`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>Paddock<\/title>/);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    const escape = await fetch(`${h.base}/..%2f..%2fetc/passwd`);
    assert.notEqual((await escape.text()).includes('root:'), true);
  } finally {
    await h.web.close();
  }
});

test('every API call needs the token; calls go through the contract', async () => {
  const h = await hostWithRenderer();
  try {
    const denied = await h.call('chat.list', {}, 'wrong');
    assert.equal(denied.status, 401);
    assert.equal((await denied.json()).error.code, 'UNAUTHORIZED');
    const list = await h.call('chat.list', {});
    assert.equal(list.status, 200);
    const body = await list.json();
    assert.equal(body.ok, true);
    assert.equal(body.result.length, 1);
    const bad = await h.call('chat.rename', { id: h.conv.id });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error.code, 'BAD_REQUEST');
  } finally {
    await h.web.close();
  }
});

test('events stream over the WebSocket, which refuses connections without the token', async () => {
  const h = await hostWithRenderer();
  try {
    const refused = new WebSocket(`ws://127.0.0.1:${h.web.port}/api/events?token=nope`);
    await new Promise<void>((resolve) => refused.on('error', () => resolve()));
    const ws = new WebSocket(`ws://127.0.0.1:${h.web.port}/api/events?token=${h.web.token}`);
    await new Promise((r) => ws.on('open', r));
    const got: { event: string; payload: { text?: string } }[] = [];
    const done = new Promise<void>((resolve) =>
      ws.on('message', (data) => {
        const m = JSON.parse(String(data));
        got.push(m);
        if (m.event === 'chat.done') resolve();
      }),
    );
    const res = await h.call('chat.send', { conversationId: h.conv.id, content: 'hi' });
    assert.equal(res.status, 200);
    await done;
    const text = got.filter((m) => m.event === 'chat.token').map((m) => m.payload.text).join('');
    assert.equal(text, 'hello from the fake engine');
    ws.close();
  } finally {
    await h.web.close();
  }
});
