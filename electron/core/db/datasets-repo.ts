// Datasets: name, source, format, head revision and import state; their summary (counts per
// split, flagged rows, quarantine, undo/redo), the last validation report and the bundled-sample marks.
import type { DatasetSummary, ValidationReport } from '../../shared/contract-datasets';
import type { RecordContext } from '../datasets/dataset-stream';
import type { Db } from './connection';
import { newId, nowIso } from './ids';

export interface DatasetRecord {
  id: string;
  name: string;
  sourcePath: string | null;
  format: string;
  recordContext: RecordContext | null;
  state: 'importing' | 'ready';
  headRevision: number;
  createdAt: string;
  updatedAt: string;
}

interface Rec {
  id: string;
  name: string;
  source_path: string | null;
  format: string;
  record_context_json: string | null;
  state: 'importing' | 'ready';
  head_revision: number;
  created_at: string;
  updated_at: string;
}

const fromRec = (r: Rec): DatasetRecord => ({
  id: r.id,
  name: r.name,
  sourcePath: r.source_path,
  format: r.format,
  recordContext: r.record_context_json ? (JSON.parse(r.record_context_json) as RecordContext) : null,
  state: r.state,
  headRevision: r.head_revision,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export class DatasetsRepo {
  constructor(private readonly db: Db) {}

  create(init: { name: string; sourcePath: string | null; format: string; state: 'importing' | 'ready'; recordContext?: RecordContext }): DatasetRecord {
    const id = newId();
    const now = nowIso();
    this.db
      .prepare(
        'INSERT INTO datasets (id, name, source_path, format, record_context_json, state, head_revision, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)',
      )
      .run(id, init.name, init.sourcePath, init.format, init.recordContext ? JSON.stringify(init.recordContext) : null, init.state, now, now);
    return this.get(id)!;
  }

  get(id: string): DatasetRecord | undefined {
    const r = this.db.prepare('SELECT * FROM datasets WHERE id = ?').get(id) as Rec | undefined;
    return r && fromRec(r);
  }

  /** Datasets ready to use (not mid-import), newest first. */
  listReady(): DatasetRecord[] {
    return (this.db.prepare("SELECT * FROM datasets WHERE state = 'ready' ORDER BY created_at DESC, rowid DESC").all() as Rec[]).map(fromRec);
  }

  update(id: string, patch: Partial<Pick<DatasetRecord, 'name' | 'format' | 'state' | 'headRevision'>>): void {
    const cur = this.get(id);
    if (!cur) return;
    const next = { ...cur, ...patch };
    this.db
      .prepare('UPDATE datasets SET name = ?, format = ?, state = ?, head_revision = ?, updated_at = ? WHERE id = ?')
      .run(next.name, next.format, next.state, next.headRevision, nowIso(), id);
  }

  remove(id: string): boolean {
    return this.db.prepare('DELETE FROM datasets WHERE id = ?').run(id).changes > 0;
  }

  /** Datasets a crash left half-imported: removed on open, so no half dataset is ever shown. */
  removeUnfinished(): number {
    return this.db.prepare("DELETE FROM datasets WHERE state = 'importing'").run().changes;
  }

  summary(d: DatasetRecord): DatasetSummary {
    const counts = this.db
      .prepare(
        `SELECT split, COUNT(*) AS n, SUM(problems <> '') AS flagged FROM dataset_rows
         WHERE dataset_id = ? AND deleted = 0 GROUP BY split`,
      )
      .all(d.id) as { split: 'train' | 'validation' | 'test' | null; n: number; flagged: number }[];
    const splitCounts = { train: 0, validation: 0, test: 0, none: 0 };
    let rows = 0;
    let flagged = 0;
    for (const c of counts) {
      splitCounts[c.split ?? 'none'] = c.n;
      rows += c.n;
      flagged += c.flagged;
    }
    const quarantined = (this.db.prepare('SELECT COUNT(*) AS n FROM dataset_quarantine WHERE dataset_id = ?').get(d.id) as { n: number }).n;
    const next = this.db.prepare('SELECT 1 FROM dataset_revisions WHERE dataset_id = ? AND revision = ? AND undone = 1').get(d.id, d.headRevision + 1);
    return {
      id: d.id,
      name: d.name,
      sourcePath: d.sourcePath,
      format: d.format,
      rowCount: rows,
      quarantinedCount: quarantined,
      flaggedCount: flagged,
      splitCounts,
      revision: d.headRevision,
      versionId: `${d.id}@${d.headRevision}`,
      // Revision 1 is the import (or creation): there is nothing before it to go back to.
      canUndo: d.headRevision > 1,
      canRedo: !!next,
      createdAt: d.createdAt,
      updatedAt: d.updatedAt,
    };
  }

  lastValidation(id: string): ValidationReport | null {
    const r = this.db.prepare('SELECT report_json FROM dataset_validations WHERE dataset_id = ?').get(id) as { report_json: string } | undefined;
    return r ? (JSON.parse(r.report_json) as ValidationReport) : null;
  }

  saveValidation(report: ValidationReport): void {
    this.db.prepare('INSERT OR REPLACE INTO dataset_validations (dataset_id, report_json) VALUES (?, ?)').run(report.datasetId, JSON.stringify(report));
  }

  bundledImported(key: string): boolean {
    return !!this.db.prepare('SELECT 1 FROM dataset_bundled WHERE key = ?').get(key);
  }

  markBundled(key: string, datasetId: string): void {
    this.db.prepare('INSERT OR REPLACE INTO dataset_bundled (key, dataset_id, imported_at) VALUES (?, ?, ?)').run(key, datasetId, nowIso());
  }
}
