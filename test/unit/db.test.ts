import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../../electron/core/db/connection';
import { migrations } from '../../electron/core/db/migrations';
import { ConversationsRepo } from '../../electron/core/db/conversations-repo';
import { MessagesRepo } from '../../electron/core/db/messages-repo';
import { defaultSamplingSettings } from '../../electron/shared/contract';

test('a database file is opened in WAL mode with foreign keys, migrated to the latest version, idempotently', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-db-'));
  const file = path.join(dir, 'paddock.db');
  const db = openDatabase(file);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
  assert.equal(db.pragma('user_version', { simple: true }), migrations[migrations.length - 1].version);
  db.close();
  const again = openDatabase(file);
  assert.equal(again.pragma('user_version', { simple: true }), migrations[migrations.length - 1].version);
  again.close();
});

test('replies left streaming by a dead host are marked interrupted on the next open; deleting a conversation deletes its messages', () => {
  const db = openDatabase(':memory:');
  const convs = new ConversationsRepo(db);
  const msgs = new MessagesRepo(db);
  const c = convs.create({ title: 't', modelId: null, systemPrompt: '', settings: defaultSamplingSettings() });
  msgs.append(c.id, { role: 'user', content: 'hi', status: 'complete' });
  const a = msgs.append(c.id, { role: 'assistant', content: 'par', status: 'streaming' });
  assert.equal(msgs.markStaleStreaming(), 1);
  assert.equal(msgs.get(a.id)?.status, 'interrupted');
  assert.equal(msgs.get(a.id)?.content, 'par');
  convs.remove(c.id);
  assert.equal(msgs.list(c.id).length, 0);
});
