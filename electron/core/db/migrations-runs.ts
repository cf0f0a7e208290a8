// Fine-tuning runs' tables (migration 3): runs, their per-step metrics, checkpoints and log lines,
// and the preference records of compare's blind A/B rating. The dataset a run pins is stored as
// text (`${datasetId}@${revision}`), not as a foreign key: a run outlives a deleted dataset.
import type { Migration } from './migrations';

export const runMigrations: Migration[] = [
  {
    version: 3,
    name: 'runs, run metrics, checkpoints, logs, preference records',
    sql: `
      CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'paused', 'done', 'cancelled', 'interrupted', 'failed')),
        form_json TEXT NOT NULL,
        config_json TEXT NOT NULL,
        model_id TEXT REFERENCES models(id) ON DELETE SET NULL,
        dataset_id TEXT,
        dataset_version TEXT NOT NULL,
        template_hash TEXT,
        special_tokens_json TEXT,
        run_dir TEXT NOT NULL,
        step INTEGER NOT NULL DEFAULT 0,
        total_steps INTEGER,
        error TEXT,
        queued_at TEXT NOT NULL,
        created_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT
      );
      CREATE INDEX runs_by_status ON runs(status, queued_at);
      CREATE TABLE run_metrics (
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        step INTEGER NOT NULL,
        loss REAL NOT NULL,
        val_loss REAL,
        lr REAL NOT NULL,
        grad_norm REAL NOT NULL,
        tokens_per_s REAL NOT NULL,
        seconds REAL NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (run_id, step)
      );
      CREATE TABLE run_checkpoints (
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        step INTEGER NOT NULL,
        path TEXT NOT NULL,
        val_loss REAL,
        perplexity REAL,
        at TEXT NOT NULL,
        PRIMARY KEY (run_id, step)
      );
      CREATE TABLE run_logs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        line TEXT NOT NULL,
        at TEXT NOT NULL
      );
      CREATE INDEX run_logs_by_run ON run_logs(run_id, id);
      CREATE TABLE preference_records (
        id TEXT PRIMARY KEY,
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        prompt TEXT NOT NULL,
        system_prompt TEXT NOT NULL,
        chosen TEXT NOT NULL,
        rejected TEXT NOT NULL,
        chosen_side TEXT NOT NULL CHECK (chosen_side IN ('base', 'tuned')),
        strength TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE INDEX preference_records_by_run ON preference_records(run_id, created_at);
    `,
  },
];
