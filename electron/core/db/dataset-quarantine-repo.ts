// Lines of an imported file that could not be read as a record: kept with the raw text and the
// parser's message until the user fixes (re-parses) or drops them. Never dropped silently.
import type { QuarantinedRow } from '../../shared/contract-datasets';
import type { Db } from './connection';
import { newId } from './ids';

export interface NewQuarantined {
  line: number;
  raw: string;
  error: string;
}

export class DatasetQuarantineRepo {
  private readonly insertStmt;

  constructor(private readonly db: Db) {
    this.insertStmt = db.prepare('INSERT INTO dataset_quarantine (id, dataset_id, line, raw, error) VALUES (?, ?, ?, ?, ?)');
  }

  /** The caller holds the transaction (import batches). */
  insert(datasetId: string, entries: NewQuarantined[], id?: string): void {
    for (const q of entries) this.insertStmt.run(id ?? newId(), datasetId, q.line, q.raw, q.error);
  }

  list(datasetId: string): QuarantinedRow[] {
    return (this.db.prepare('SELECT id, dataset_id, line, raw, error FROM dataset_quarantine WHERE dataset_id = ? ORDER BY line, rowid').all(datasetId) as {
      id: string;
      dataset_id: string;
      line: number;
      raw: string;
      error: string;
    }[]).map((r) => ({ id: r.id, datasetId: r.dataset_id, line: r.line, raw: r.raw, error: r.error }));
  }

  get(id: string): QuarantinedRow | undefined {
    const r = this.db.prepare('SELECT id, dataset_id, line, raw, error FROM dataset_quarantine WHERE id = ?').get(id) as
      | { id: string; dataset_id: string; line: number; raw: string; error: string }
      | undefined;
    return r && { id: r.id, datasetId: r.dataset_id, line: r.line, raw: r.raw, error: r.error };
  }

  /** Puts an entry back exactly as it was (undo of a fix). */
  restore(q: QuarantinedRow): void {
    this.db.prepare('INSERT OR REPLACE INTO dataset_quarantine (id, dataset_id, line, raw, error) VALUES (?, ?, ?, ?, ?)').run(q.id, q.datasetId, q.line, q.raw, q.error);
  }

  remove(id: string): boolean {
    return this.db.prepare('DELETE FROM dataset_quarantine WHERE id = ?').run(id).changes > 0;
  }
}
