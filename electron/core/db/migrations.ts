// Numbered schema migrations. Append only: a released migration is never edited.
// Each area keeps its own in migrations-<area>.ts (datasets: 2, runs: 3, later ones after).
import { datasetMigrations } from './migrations-datasets';
import { runMigrations } from './migrations-runs';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const coreMigrations: Migration[] = [
  {
    version: 1,
    name: 'models, conversations, messages',
    sql: `
      CREATE TABLE models (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        path TEXT NOT NULL UNIQUE,
        tokenizer_path TEXT,
        format TEXT NOT NULL,
        architecture TEXT NOT NULL,
        parameter_count INTEGER NOT NULL,
        tensor_type TEXT NOT NULL,
        context_length INTEGER NOT NULL,
        vocab_size INTEGER NOT NULL,
        embedding_length INTEGER NOT NULL,
        layer_count INTEGER NOT NULL,
        head_count INTEGER NOT NULL,
        head_count_kv INTEGER NOT NULL,
        file_bytes INTEGER NOT NULL,
        bundled INTEGER NOT NULL DEFAULT 0,
        metadata_json TEXT NOT NULL,
        added_at TEXT NOT NULL
      );
      CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        model_id TEXT REFERENCES models(id) ON DELETE SET NULL,
        system_prompt TEXT NOT NULL DEFAULT '',
        settings_json TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE messages (
        id TEXT PRIMARY KEY,
        conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
        content TEXT NOT NULL,
        status TEXT NOT NULL,
        error TEXT,
        model_id TEXT REFERENCES models(id) ON DELETE SET NULL,
        settings_json TEXT,
        stats_json TEXT,
        created_at TEXT NOT NULL,
        UNIQUE (conversation_id, position)
      );
      CREATE INDEX messages_by_conversation ON messages(conversation_id, position);
    `,
  },
];

export const migrations: Migration[] = [...coreMigrations, ...datasetMigrations, ...runMigrations].sort((a, b) => a.version - b.version);
