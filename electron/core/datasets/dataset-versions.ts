// Old versions and row histories, rebuilt from the rows as they are now and the revisions' snapshots:
// going back reverts later revisions' before-snapshots (newest first); going forward to an undone
// revision applies its after-snapshots. A snapshot without messages left them unchanged.
import type { DatasetMessage, DatasetSplit } from '../../shared/contract-datasets';
import type { StoredRow } from '../db/dataset-rows-repo';
import type { RowChange, RowSnapshot } from '../db/dataset-revisions-repo';
import { PaddockError } from '../errors';
import type { RowKind } from './dataset-stream';
import { requireDataset, type DatasetStore } from './dataset-store';

export interface VersionRow {
  id: number;
  kind: RowKind;
  messages: DatasetMessage[];
  split: DatasetSplit | null;
  tags: string[];
  sourceLine: number | null;
}

interface FullState {
  messages: DatasetMessage[];
  split: DatasetSplit | null;
  tags: string[];
  deleted: boolean;
}

const overlay = (cur: FullState, snap: RowSnapshot): FullState => ({
  messages: snap.messages ?? cur.messages,
  split: snap.split,
  tags: snap.tags,
  deleted: snap.deleted,
});

/** Parses `${datasetId}@${revision}`. */
export function parseVersionId(versionId: string): { datasetId: string; revision: number } {
  const at = versionId.lastIndexOf('@');
  const revision = Number(versionId.slice(at + 1));
  if (at <= 0 || !Number.isInteger(revision) || revision < 1) {
    throw new PaddockError('BAD_REQUEST', `"${versionId}" is not a dataset version id (expected <dataset id>@<revision>).`);
  }
  return { datasetId: versionId.slice(0, at), revision };
}

/**
 * The live rows of a dataset as they were at `revision`, in dataset order, streamed: only the rows
 * the revisions in between touched are held in memory (with their rebuilt state).
 */
export function* versionRows(s: DatasetStore, datasetId: string, revision: number): Generator<VersionRow> {
  const d = requireDataset(s, datasetId);
  if (!s.revisions.get(datasetId, revision)) {
    throw new PaddockError('NOT_FOUND', `Dataset "${d.name}" has no revision ${revision} (an undone revision is dropped once a new edit replaces it).`);
  }
  const back = revision <= d.headRevision;
  // Newest first going back (apply befores); oldest first going forward to an undone revision (afters).
  const changes = back ? s.revisions.changesBetween(datasetId, revision, d.headRevision) : s.revisions.changesBetween(datasetId, d.headRevision, revision).reverse();
  const touched = new Map<number, FullState | null>();
  const stored = new Map(s.rows.getMany([...new Set(changes.map((c) => c.rowId))]).map((r) => [r.id, r]));
  for (const c of changes) {
    const row = stored.get(c.rowId);
    if (!row) continue;
    const cur = touched.get(c.rowId) ?? fullState(row);
    touched.set(c.rowId, back ? (c.before === null ? null : overlay(cur, c.before)) : overlay(cur, c.after));
  }
  for (const r of s.rows.iterateLive(datasetId, { withDeleted: true })) {
    if (r.createdRevision > revision) continue;
    const st = touched.has(r.id) ? touched.get(r.id)! : fullState(r);
    if (!st || st.deleted) continue;
    yield { id: r.id, kind: r.kind, messages: st.messages, split: st.split, tags: st.tags, sourceLine: r.sourceLine };
  }
}

/** All of versionRows at once. */
export function readVersionRows(s: DatasetStore, datasetId: string, revision: number): VersionRow[] {
  return [...versionRows(s, datasetId, revision)];
}

export interface HistoryEntry {
  revision: number;
  description: string;
  createdAt: string;
  before: FullState | null;
  after: FullState;
}

/** One row's history up to the head, oldest first; its creation (import or add) comes first. */
export function rowHistoryOf(s: DatasetStore, row: StoredRow): HistoryEntry[] {
  const d = requireDataset(s, row.datasetId);
  const changes: RowChange[] = s.revisions.changesOfRow(row.id, d.headRevision);
  const entries: HistoryEntry[] = [];
  let cur = fullState(row);
  for (const c of changes) {
    const after = overlay(cur, c.after);
    const before = c.before === null ? null : overlay(cur, c.before);
    entries.push({ ...describe(s, row.datasetId, c.revision), before, after });
    if (!before) break;
    cur = before;
  }
  // An imported row has no snapshot of its creation: its state then is the oldest "before".
  if (!changes.some((c) => c.before === null) && row.createdRevision <= d.headRevision) {
    entries.push({ ...describe(s, row.datasetId, row.createdRevision), before: null, after: cur });
  }
  return entries.reverse();
}

function describe(s: DatasetStore, datasetId: string, revision: number) {
  const rev = s.revisions.get(datasetId, revision);
  return { revision, description: rev?.description ?? `Revision ${revision}`, createdAt: rev?.createdAt ?? '' };
}

function fullState(r: StoredRow): FullState {
  return { messages: r.messages, split: r.split, tags: r.tags, deleted: r.deleted };
}
