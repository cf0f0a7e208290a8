// A dataset's revisions (number, description, time, undone flag) and, for every row a revision
// touched, the row's state before and after. Revisions past the head are undone ones (the redo stack).
import type { DatasetMessage, DatasetSplit } from '../../shared/contract-datasets';
import type { Db } from './connection';
import { nowIso } from './ids';

/** A row's editable state; `messages` is left out of a snapshot when the revision did not change them. */
export interface RowSnapshot {
  messages?: DatasetMessage[];
  split: DatasetSplit | null;
  tags: string[];
  deleted: boolean;
}

export interface RevisionRecord {
  datasetId: string;
  revision: number;
  description: string;
  createdAt: string;
  rowsAffected: number;
  undone: boolean;
  quarantineJson: string | null;
}

export interface RowChange {
  revision: number;
  rowId: number;
  /** null: the row did not exist before this revision. */
  before: RowSnapshot | null;
  after: RowSnapshot;
}

interface Rec {
  dataset_id: string;
  revision: number;
  description: string;
  created_at: string;
  rows_affected: number;
  undone: number;
  quarantine_json: string | null;
}

interface ChangeRec {
  revision: number;
  row_id: number;
  before_json: string | null;
  after_json: string;
}

const fromRec = (r: Rec): RevisionRecord => ({
  datasetId: r.dataset_id,
  revision: r.revision,
  description: r.description,
  createdAt: r.created_at,
  rowsAffected: r.rows_affected,
  undone: r.undone === 1,
  quarantineJson: r.quarantine_json,
});

const fromChange = (c: ChangeRec): RowChange => ({
  revision: c.revision,
  rowId: c.row_id,
  before: c.before_json === null ? null : (JSON.parse(c.before_json) as RowSnapshot),
  after: JSON.parse(c.after_json) as RowSnapshot,
});

export class DatasetRevisionsRepo {
  private readonly changeStmt;

  constructor(private readonly db: Db) {
    this.changeStmt = db.prepare('INSERT INTO dataset_row_changes (dataset_id, revision, row_id, before_json, after_json) VALUES (?, ?, ?, ?, ?)');
  }

  create(datasetId: string, revision: number, description: string, rowsAffected: number, quarantineJson: string | null = null): void {
    this.db
      .prepare('INSERT INTO dataset_revisions (dataset_id, revision, description, created_at, rows_affected, undone, quarantine_json) VALUES (?, ?, ?, ?, ?, 0, ?)')
      .run(datasetId, revision, description, nowIso(), rowsAffected, quarantineJson);
  }

  setRowsAffected(datasetId: string, revision: number, n: number): void {
    this.db.prepare('UPDATE dataset_revisions SET rows_affected = ? WHERE dataset_id = ? AND revision = ?').run(n, datasetId, revision);
  }

  addChange(datasetId: string, revision: number, rowId: number, before: RowSnapshot | null, after: RowSnapshot): void {
    this.changeStmt.run(datasetId, revision, rowId, before === null ? null : JSON.stringify(before), JSON.stringify(after));
  }

  get(datasetId: string, revision: number): RevisionRecord | undefined {
    const r = this.db.prepare('SELECT * FROM dataset_revisions WHERE dataset_id = ? AND revision = ?').get(datasetId, revision) as Rec | undefined;
    return r && fromRec(r);
  }

  list(datasetId: string): RevisionRecord[] {
    return (this.db.prepare('SELECT * FROM dataset_revisions WHERE dataset_id = ? ORDER BY revision').all(datasetId) as Rec[]).map(fromRec);
  }

  setUndone(datasetId: string, revision: number, undone: boolean): void {
    this.db.prepare('UPDATE dataset_revisions SET undone = ? WHERE dataset_id = ? AND revision = ?').run(undone ? 1 : 0, datasetId, revision);
  }

  /** Drops the redo stack (every revision after the head): a new edit starts a new line of history. */
  dropAfter(datasetId: string, head: number): void {
    this.db.prepare('DELETE FROM dataset_revisions WHERE dataset_id = ? AND revision > ?').run(datasetId, head);
  }

  changes(datasetId: string, revision: number): RowChange[] {
    return (
      this.db.prepare('SELECT revision, row_id, before_json, after_json FROM dataset_row_changes WHERE dataset_id = ? AND revision = ?').all(datasetId, revision) as ChangeRec[]
    ).map(fromChange);
  }

  /** The changes of revisions in (from, to], newest first: what to revert to go back to `from`. */
  changesBetween(datasetId: string, from: number, to: number): RowChange[] {
    return (
      this.db
        .prepare('SELECT revision, row_id, before_json, after_json FROM dataset_row_changes WHERE dataset_id = ? AND revision > ? AND revision <= ? ORDER BY revision DESC')
        .all(datasetId, from, to) as ChangeRec[]
    ).map(fromChange);
  }

  /** One row's changes up to the head, newest first. */
  changesOfRow(rowId: number, head: number): RowChange[] {
    return (
      this.db
        .prepare('SELECT revision, row_id, before_json, after_json FROM dataset_row_changes WHERE row_id = ? AND revision <= ? ORDER BY revision DESC')
        .all(rowId, head) as ChangeRec[]
    ).map(fromChange);
  }
}
