// Messages of a conversation, in order; assistant replies carry their settings and timing.
import { GenerationStats, SamplingSettings, type Message } from '../../shared/contract';
import type { Db } from './connection';
import { newId, nowIso } from './ids';

interface MessageRow {
  id: string;
  conversation_id: string;
  position: number;
  role: Message['role'];
  content: string;
  status: Message['status'];
  error: string | null;
  model_id: string | null;
  settings_json: string | null;
  stats_json: string | null;
  created_at: string;
}

const fromRow = (r: MessageRow): Message => ({
  id: r.id,
  conversationId: r.conversation_id,
  position: r.position,
  role: r.role,
  content: r.content,
  status: r.status,
  error: r.error,
  modelId: r.model_id,
  // Parsed through the schemas so rows written before a field existed get its default.
  settings: r.settings_json ? SamplingSettings.parse(JSON.parse(r.settings_json)) : null,
  stats: r.stats_json ? GenerationStats.parse(JSON.parse(r.stats_json)) : null,
  createdAt: r.created_at,
});

export interface NewMessage {
  role: Message['role'];
  content: string;
  status: Message['status'];
  modelId?: string | null;
  settings?: SamplingSettings | null;
}

export class MessagesRepo {
  constructor(private readonly db: Db) {}

  list(conversationId: string): Message[] {
    const rows = this.db
      .prepare('SELECT * FROM messages WHERE conversation_id = ? ORDER BY position')
      .all(conversationId) as MessageRow[];
    return rows.map(fromRow);
  }

  get(id: string): Message | undefined {
    const row = this.db.prepare('SELECT * FROM messages WHERE id = ?').get(id) as MessageRow | undefined;
    return row && fromRow(row);
  }

  append(conversationId: string, m: NewMessage): Message {
    const id = newId();
    const next = this.db
      .prepare('SELECT COALESCE(MAX(position) + 1, 0) AS p FROM messages WHERE conversation_id = ?')
      .get(conversationId) as { p: number };
    this.db
      .prepare(
        `INSERT INTO messages (id, conversation_id, position, role, content, status, error, model_id, settings_json, stats_json, created_at)
         VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, NULL, ?)`,
      )
      .run(id, conversationId, next.p, m.role, m.content, m.status, m.modelId ?? null,
        m.settings ? JSON.stringify(m.settings) : null, nowIso());
    return this.get(id)!;
  }

  setContent(id: string, content: string): void {
    this.db.prepare('UPDATE messages SET content = ? WHERE id = ?').run(content, id);
  }

  finish(id: string, f: { content: string; status: Message['status']; error: string | null; stats: GenerationStats | null }): Message {
    this.db
      .prepare('UPDATE messages SET content = ?, status = ?, error = ?, stats_json = ? WHERE id = ?')
      .run(f.content, f.status, f.error, f.stats ? JSON.stringify(f.stats) : null, id);
    return this.get(id)!;
  }

  /** Drops every message after `position` (edit-and-resend, regenerate). */
  removeAfter(conversationId: string, position: number): void {
    this.db.prepare('DELETE FROM messages WHERE conversation_id = ? AND position > ?').run(conversationId, position);
  }

  remove(id: string): void {
    this.db.prepare('DELETE FROM messages WHERE id = ?').run(id);
  }

  /** Replies left 'streaming' by a host that died are marked interrupted on the next start. */
  markStaleStreaming(): number {
    return this.db
      .prepare(`UPDATE messages SET status = 'interrupted', error = 'Paddock stopped before this reply finished.' WHERE status = 'streaming'`)
      .run().changes;
  }
}
