// The datasets workbench's tables (migration 2).
//
// Rows are edited as numbered revisions. A revision records, for every row it touched, the row's
// state before and after (messages only when they changed, to keep a bulk split of 50K rows small).
// An import is revision 1 and records no per-row snapshot: a row created at revision R simply did
// not exist before R (created_revision), which keeps 100K-row imports cheap.
import type { Migration } from './migrations';

export const datasetMigrations: Migration[] = [
  {
    version: 2,
    name: 'datasets, rows, tags, revisions, quarantine, validation',
    sql: `
      CREATE TABLE datasets (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        source_path TEXT,
        format TEXT NOT NULL,
        -- CSV / Parquet: the header and column mapping, to re-read a fixed quarantine line.
        record_context_json TEXT,
        -- 'importing' until the last batch is in: a dataset a crash left half-imported is removed on the next open.
        state TEXT NOT NULL DEFAULT 'ready' CHECK (state IN ('importing', 'ready')),
        head_revision INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );

      -- Big text last: filters read the small columns without touching overflow pages.
      CREATE TABLE dataset_rows (
        id INTEGER PRIMARY KEY,
        dataset_id TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        ordinal REAL NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('chat', 'completion', 'text')),
        split TEXT CHECK (split IN ('train', 'validation', 'test')),
        turns INTEGER NOT NULL,
        tokens INTEGER,
        -- ',empty_reply,duplicate,' (commas around each) or '' when the row has none.
        problems TEXT NOT NULL DEFAULT '',
        source_line INTEGER,
        deleted INTEGER NOT NULL DEFAULT 0,
        created_revision INTEGER NOT NULL,
        messages_json TEXT NOT NULL
      );
      -- Covering the editor's filters, so paging and counting never read the messages.
      CREATE INDEX dataset_rows_order ON dataset_rows(dataset_id, deleted, ordinal, split, turns, tokens, problems);
      CREATE INDEX dataset_rows_created ON dataset_rows(dataset_id, created_revision);

      CREATE TABLE dataset_row_tags (
        row_id INTEGER NOT NULL REFERENCES dataset_rows(id) ON DELETE CASCADE,
        dataset_id TEXT NOT NULL,
        tag TEXT NOT NULL,
        PRIMARY KEY (row_id, tag)
      ) WITHOUT ROWID;
      CREATE INDEX dataset_row_tags_by_tag ON dataset_row_tags(dataset_id, tag, row_id);

      CREATE TABLE dataset_revisions (
        dataset_id TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        revision INTEGER NOT NULL,
        description TEXT NOT NULL,
        created_at TEXT NOT NULL,
        rows_affected INTEGER NOT NULL,
        undone INTEGER NOT NULL DEFAULT 0,
        -- A quarantined line this revision turned into a row: undo puts it back in the quarantine.
        quarantine_json TEXT,
        PRIMARY KEY (dataset_id, revision)
      );

      -- before_json NULL: the row did not exist before this revision.
      -- JSON {split, tags, deleted, messages?}: messages present only when the revision changed them.
      CREATE TABLE dataset_row_changes (
        dataset_id TEXT NOT NULL,
        revision INTEGER NOT NULL,
        row_id INTEGER NOT NULL,
        before_json TEXT,
        after_json TEXT NOT NULL,
        PRIMARY KEY (dataset_id, revision, row_id),
        FOREIGN KEY (dataset_id, revision) REFERENCES dataset_revisions(dataset_id, revision) ON DELETE CASCADE
      ) WITHOUT ROWID;
      CREATE INDEX dataset_row_changes_by_row ON dataset_row_changes(row_id, revision);

      CREATE TABLE dataset_quarantine (
        id TEXT PRIMARY KEY,
        dataset_id TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        line INTEGER NOT NULL,
        raw TEXT NOT NULL,
        error TEXT NOT NULL
      );
      CREATE INDEX dataset_quarantine_by_dataset ON dataset_quarantine(dataset_id, line);

      CREATE TABLE dataset_validations (
        dataset_id TEXT PRIMARY KEY REFERENCES datasets(id) ON DELETE CASCADE,
        report_json TEXT NOT NULL
      );

      -- Bundled samples imported once (kept even if the user deletes the dataset later).
      CREATE TABLE dataset_bundled (
        key TEXT PRIMARY KEY,
        dataset_id TEXT,
        imported_at TEXT NOT NULL
      );
    `,
  },
];
