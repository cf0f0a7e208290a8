// The repositories of the datasets workbench over one connection: what the import, the edits and
// the version reader share (the service, the CLI and the bench build it from a Db alone).
import type { Db } from '../db/connection';
import { DatasetQuarantineRepo } from '../db/dataset-quarantine-repo';
import { DatasetRevisionsRepo } from '../db/dataset-revisions-repo';
import { DatasetRowsRepo } from '../db/dataset-rows-repo';
import { DatasetsRepo } from '../db/datasets-repo';
import { PaddockError } from '../errors';

export interface DatasetStore {
  db: Db;
  datasets: DatasetsRepo;
  rows: DatasetRowsRepo;
  revisions: DatasetRevisionsRepo;
  quarantine: DatasetQuarantineRepo;
}

export function datasetStore(db: Db): DatasetStore {
  return {
    db,
    datasets: new DatasetsRepo(db),
    rows: new DatasetRowsRepo(db),
    revisions: new DatasetRevisionsRepo(db),
    quarantine: new DatasetQuarantineRepo(db),
  };
}

/** A ready dataset, or NOT_FOUND (a half-imported one is not there yet). */
export function requireDataset(store: DatasetStore, id: string) {
  const d = store.datasets.get(id);
  if (!d || d.state !== 'ready') throw new PaddockError('NOT_FOUND', `No dataset with id ${id}.`);
  return d;
}

/** A stored row by its contract id (a decimal string), or NOT_FOUND (deleted rows too, unless asked for). */
export function requireRow(store: DatasetStore, rowId: string, opts: { allowDeleted?: boolean } = {}) {
  const id = Number(rowId);
  const row = Number.isSafeInteger(id) ? store.rows.get(id) : undefined;
  if (!row || (row.deleted && !opts.allowDeleted)) throw new PaddockError('NOT_FOUND', `No dataset row with id ${rowId}.`);
  return row;
}
