// Conversations: title, model, system prompt and the sampling settings new replies use.
import { SamplingSettings, type Conversation } from '../../shared/contract';
import type { Db } from './connection';
import { newId, nowIso } from './ids';

interface ConversationRow {
  id: string;
  title: string;
  model_id: string | null;
  system_prompt: string;
  settings_json: string;
  created_at: string;
  updated_at: string;
}

const fromRow = (r: ConversationRow): Conversation => ({
  id: r.id,
  title: r.title,
  modelId: r.model_id,
  systemPrompt: r.system_prompt,
  settings: SamplingSettings.parse(JSON.parse(r.settings_json)),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export class ConversationsRepo {
  constructor(private readonly db: Db) {}

  list(): Conversation[] {
    const rows = this.db.prepare('SELECT * FROM conversations ORDER BY updated_at DESC').all() as ConversationRow[];
    return rows.map(fromRow);
  }

  get(id: string): Conversation | undefined {
    const row = this.db.prepare('SELECT * FROM conversations WHERE id = ?').get(id) as ConversationRow | undefined;
    return row && fromRow(row);
  }

  create(init: { title: string; modelId: string | null; systemPrompt: string; settings: SamplingSettings }): Conversation {
    const id = newId();
    const now = nowIso();
    this.db
      .prepare(
        `INSERT INTO conversations (id, title, model_id, system_prompt, settings_json, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(id, init.title, init.modelId, init.systemPrompt, JSON.stringify(init.settings), now, now);
    return this.get(id)!;
  }

  update(id: string, patch: Partial<Pick<Conversation, 'title' | 'modelId' | 'systemPrompt' | 'settings'>>): Conversation | undefined {
    const cur = this.get(id);
    if (!cur) return undefined;
    const next = { ...cur, ...patch };
    this.db
      .prepare(
        `UPDATE conversations SET title = ?, model_id = ?, system_prompt = ?, settings_json = ?, updated_at = ? WHERE id = ?`,
      )
      .run(next.title, next.modelId, next.systemPrompt, JSON.stringify(next.settings), nowIso(), id);
    return this.get(id);
  }

  touch(id: string): void {
    this.db.prepare('UPDATE conversations SET updated_at = ? WHERE id = ?').run(nowIso(), id);
  }

  remove(id: string): boolean {
    return this.db.prepare('DELETE FROM conversations WHERE id = ?').run(id).changes > 0;
  }
}
