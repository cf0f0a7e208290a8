// Every edit of a dataset is one revision: the rows it touches get a before/after snapshot, the
// head moves forward, and the redo stack (revisions undone earlier) is dropped. Undo applies a
// revision's before snapshots, redo its after snapshots. All of it in one transaction each.
import type { DatasetMessage, DatasetSplit, QuarantinedRow, RowProblem } from '../../shared/contract-datasets';
import type { StoredRow } from '../db/dataset-rows-repo';
import type { RowSnapshot } from '../db/dataset-revisions-repo';
import { PaddockError } from '../errors';
import { seededShuffle } from './auto-split';
import type { RowKind } from './dataset-stream';
import { requireDataset, type DatasetStore } from './dataset-store';
import { rowProblems } from './row-problems';

export interface RowEdit {
  messages?: DatasetMessage[];
  split?: DatasetSplit | null;
  tags?: string[];
}

export type BulkAction = { kind: 'delete' } | { kind: 'tag'; tag: string; remove: boolean } | { kind: 'split'; split: DatasetSplit | null };

/** Problems only a whole-dataset validation finds: kept on an edited row until the next validation. */
const DATASET_WIDE: RowProblem[] = ['too_long', 'duplicate', 'near_duplicate', 'contamination'];

const sameMessages = (a: DatasetMessage[], b: DatasetMessage[]) => JSON.stringify(a) === JSON.stringify(b);
const sortedTags = (tags: string[]) => [...new Set(tags.map((t) => t.trim()).filter(Boolean))].sort();

/** The row-local problems of new messages, plus the dataset-wide ones the row already had. */
export function problemsAfterEdit(kind: RowKind, messages: DatasetMessage[], old: RowProblem[]): RowProblem[] {
  return [...rowProblems(kind, messages), ...old.filter((p) => DATASET_WIDE.includes(p))];
}

/** Records one row's change inside a revision. */
interface Reviser {
  change(row: StoredRow, next: { messages?: DatasetMessage[]; split: DatasetSplit | null; tags: string[]; deleted: boolean }): boolean;
  created(rowId: number, snapshot: RowSnapshot): void;
}

class NoChange extends Error {}

export class DatasetEdits {
  constructor(private readonly s: DatasetStore) {}

  /**
   * Runs `apply` as a new revision (one transaction) and returns its number. A revision that
   * changes no row is not kept.
   */
  revise(datasetId: string, description: string, apply: (r: Reviser, revision: number) => void, quarantine?: QuarantinedRow): number {
    const head = requireDataset(this.s, datasetId).headRevision;
    try {
      return this.s.db.transaction(() => this.reviseInTransaction(datasetId, description, apply, quarantine))();
    } catch (err) {
      // Nothing changed: the transaction is rolled back, so the redo stack is kept too.
      if (err instanceof NoChange) return head;
      throw err;
    }
  }

  private reviseInTransaction(datasetId: string, description: string, apply: (r: Reviser, revision: number) => void, quarantine?: QuarantinedRow): number {
    const d = requireDataset(this.s, datasetId);
    const revision = d.headRevision + 1;
    this.s.revisions.dropAfter(datasetId, d.headRevision);
    this.s.rows.removeCreatedAfter(datasetId, d.headRevision);
    this.s.revisions.create(datasetId, revision, description, 0, quarantine ? JSON.stringify(quarantine) : null);
    let affected = 0;
    const reviser: Reviser = {
      change: (row, next) => {
        const messagesChanged = !!next.messages && !sameMessages(next.messages, row.messages);
        const tags = sortedTags(next.tags);
        if (!messagesChanged && next.split === row.split && next.deleted === row.deleted && JSON.stringify(tags) === JSON.stringify(sortedTags(row.tags))) {
          return false;
        }
        const before: RowSnapshot = { split: row.split, tags: row.tags, deleted: row.deleted, ...(messagesChanged ? { messages: row.messages } : {}) };
        const after: RowSnapshot = { split: next.split, tags, deleted: next.deleted, ...(messagesChanged ? { messages: next.messages } : {}) };
        this.s.revisions.addChange(datasetId, revision, row.id, before, after);
        this.applySnapshot(row, after);
        affected++;
        return true;
      },
      created: (rowId, snapshot) => {
        this.s.revisions.addChange(datasetId, revision, rowId, null, snapshot);
        affected++;
      },
    };
    apply(reviser, revision);
    if (!affected && !quarantine) throw new NoChange();
    this.s.revisions.setRowsAffected(datasetId, revision, affected);
    this.s.datasets.update(datasetId, { headRevision: revision });
    return revision;
  }

  updateRow(row: StoredRow, edit: RowEdit): number {
    return this.revise(row.datasetId, `Edited row ${row.id}`, (r) => {
      r.change(row, {
        messages: edit.messages,
        split: edit.split === undefined ? row.split : edit.split,
        tags: edit.tags ?? row.tags,
        deleted: row.deleted,
      });
    });
  }

  /** A new row at the end of the dataset (or where `ordinal` puts it); returns its id. */
  addRow(
    datasetId: string,
    init: { kind: RowKind; messages: DatasetMessage[]; split?: DatasetSplit | null; tags?: string[]; sourceLine?: number | null; ordinal?: number },
    description = 'Added a row',
    quarantine?: QuarantinedRow,
  ): { revision: number; rowId: number } {
    let rowId = -1;
    const revision = this.revise(
      datasetId,
      description,
      (r, rev) => {
        const tags = sortedTags(init.tags ?? []);
        [rowId] = this.s.rows.insert(datasetId, rev, [
          {
            kind: init.kind,
            messages: init.messages,
            split: init.split ?? null,
            tags,
            problems: rowProblems(init.kind, init.messages),
            sourceLine: init.sourceLine ?? null,
            ordinal: init.ordinal ?? this.s.rows.nextOrdinal(datasetId),
          },
        ]);
        r.created(rowId, { messages: init.messages, split: init.split ?? null, tags, deleted: false });
        if (quarantine) this.s.quarantine.remove(quarantine.id);
      },
      quarantine,
    );
    return { revision, rowId };
  }

  bulk(datasetId: string, ids: number[], action: BulkAction): { revision: number; affected: number } {
    const what =
      action.kind === 'delete' ? 'Deleted' : action.kind === 'tag' ? `${action.remove ? 'Untagged' : 'Tagged'} "${action.tag}":` : `Split ${action.split ?? 'none'}:`;
    let affected = 0;
    const revision = this.revise(datasetId, `${what} ${ids.length} rows`, (r) => {
      for (let i = 0; i < ids.length; i += 1000) {
        for (const row of this.s.rows.getMany(ids.slice(i, i + 1000))) {
          if (row.datasetId !== datasetId || row.deleted) continue;
          const tags =
            action.kind !== 'tag' ? row.tags : action.remove ? row.tags.filter((t) => t !== action.tag) : [...row.tags, action.tag];
          const changed = r.change(row, {
            split: action.kind === 'split' ? action.split : row.split,
            tags,
            deleted: action.kind === 'delete' ? true : row.deleted,
          });
          if (changed) affected++;
        }
      }
    });
    return { revision, affected };
  }

  /** Every live row gets a split: exactly round(n*validation) validation, round(n*test) test, the rest train. */
  autoSplit(datasetId: string, shares: { validation: number; test: number }, seed: number): number {
    const ids = this.s.rows.liveIds(datasetId);
    const n = ids.length;
    const nVal = Math.min(n, Math.round(n * shares.validation));
    const nTest = Math.min(n - nVal, Math.round(n * shares.test));
    const order = seededShuffle(ids, seed);
    const target = new Map<number, DatasetSplit>();
    order.forEach((id, i) => target.set(id, i < nVal ? 'validation' : i < nVal + nTest ? 'test' : 'train'));
    const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
    return this.revise(datasetId, `Auto split: ${pct(shares.validation)} validation${shares.test ? `, ${pct(shares.test)} test` : ''} (seed ${seed})`, (r) => {
      for (let i = 0; i < ids.length; i += 1000) {
        for (const row of this.s.rows.getMany(ids.slice(i, i + 1000))) {
          r.change(row, { split: target.get(row.id)!, tags: row.tags, deleted: row.deleted });
        }
      }
    });
  }

  undo(datasetId: string): number {
    return this.s.db.transaction(() => {
      const d = requireDataset(this.s, datasetId);
      if (d.headRevision <= 1) throw new PaddockError('BAD_REQUEST', `Nothing to undo in dataset "${d.name}".`);
      const rev = this.s.revisions.get(datasetId, d.headRevision)!;
      for (const c of this.s.revisions.changes(datasetId, rev.revision)) {
        const row = this.s.rows.get(c.rowId);
        if (!row) continue;
        this.applySnapshot(row, c.before ?? { split: row.split, tags: row.tags, deleted: true });
      }
      if (rev.quarantineJson) this.s.quarantine.restore(JSON.parse(rev.quarantineJson) as QuarantinedRow);
      this.s.revisions.setUndone(datasetId, rev.revision, true);
      this.s.datasets.update(datasetId, { headRevision: rev.revision - 1 });
      return rev.revision - 1;
    })();
  }

  redo(datasetId: string): number {
    return this.s.db.transaction(() => {
      const d = requireDataset(this.s, datasetId);
      const rev = this.s.revisions.get(datasetId, d.headRevision + 1);
      if (!rev || !rev.undone) throw new PaddockError('BAD_REQUEST', `Nothing to redo in dataset "${d.name}".`);
      for (const c of this.s.revisions.changes(datasetId, rev.revision)) {
        const row = this.s.rows.get(c.rowId);
        if (row) this.applySnapshot(row, c.after);
      }
      if (rev.quarantineJson) this.s.quarantine.remove((JSON.parse(rev.quarantineJson) as QuarantinedRow).id);
      this.s.revisions.setUndone(datasetId, rev.revision, false);
      this.s.datasets.update(datasetId, { headRevision: rev.revision });
      return rev.revision;
    })();
  }

  /** Writes a snapshot onto a row; new messages bring fresh row-local problems and no token count. */
  private applySnapshot(row: StoredRow, snap: RowSnapshot): void {
    this.s.rows.write(row.id, row.datasetId, {
      split: snap.split,
      tags: snap.tags,
      deleted: snap.deleted,
      ...(snap.messages ? { messages: snap.messages, problems: problemsAfterEdit(row.kind, snap.messages, row.problems) } : {}),
    });
  }
}
