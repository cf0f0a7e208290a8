// Streaming import: a data file read batch by batch (openDatasetStream) into a new dataset, each
// batch in one transaction, rows flagged with their row-local problems, unreadable records kept in
// the quarantine. The dataset stays 'importing' (invisible) until the last batch is in; a failure
// removes it, so no half dataset is ever left, and the error names the file.
import path from 'node:path';
import type { DatasetMessage, DatasetSplit } from '../../shared/contract-datasets';
import type { NewRow } from '../db/dataset-rows-repo';
import { PaddockError } from '../errors';
import type { DatasetStore } from './dataset-store';
import { openDatasetStream, type DatasetStreamOptions, type RowKind } from './dataset-stream';
import { rowProblems } from './row-problems';

export interface ImportRequest extends DatasetStreamOptions {
  path: string;
  name?: string;
}

export interface ImportProgress {
  rows: number;
  quarantined: number;
  bytesRead: number;
  totalBytes: number;
  done: boolean;
}

export interface ImportOutcome {
  datasetId: string;
  format: string;
  rows: number;
  quarantined: number;
  flagged: number;
}

/** Progress at most this often (the last one, done: true, always comes). */
const PROGRESS_INTERVAL_MS = 100;

/** `open` is the file reader; tests pass one that fails mid-file. */
export async function importDataset(
  s: DatasetStore,
  req: ImportRequest,
  onProgress?: (p: ImportProgress) => void,
  open: typeof openDatasetStream = openDatasetStream,
): Promise<ImportOutcome> {
  const file = path.resolve(req.path);
  let stream;
  try {
    stream = await open(file, { format: req.format, oasst: req.oasst, columns: req.columns });
  } catch (err) {
    throw namingFile(file, err);
  }
  const d = s.datasets.create({
    name: req.name?.trim() || defaultName(file),
    sourcePath: file,
    format: stream.format,
    state: 'importing',
    recordContext: stream.recordContext,
  });
  s.db.transaction(() => {
    s.revisions.create(d.id, 1, `Imported ${path.basename(file)}`, 0);
    s.datasets.update(d.id, { headRevision: 1 });
  })();
  const counts = { rows: 0, quarantined: 0, flagged: 0 };
  let lastProgress = 0;
  let bytesRead = 0;
  try {
    for await (const batch of stream.batches()) {
      s.db.transaction(() => {
        const rows = batch.rows.map((r, i): NewRow => {
          const problems = rowProblems(r.kind, r.messages);
          if (problems.length) counts.flagged++;
          return { kind: r.kind, messages: r.messages, problems, sourceLine: r.line, ordinal: counts.rows + i };
        });
        s.rows.insert(d.id, 1, rows);
        s.quarantine.insert(d.id, batch.quarantined);
      })();
      counts.rows += batch.rows.length;
      counts.quarantined += batch.quarantined.length;
      bytesRead = batch.bytesRead;
      const now = Date.now();
      if (onProgress && now - lastProgress >= PROGRESS_INTERVAL_MS) {
        lastProgress = now;
        onProgress({ ...counts, bytesRead, totalBytes: stream.totalBytes, done: false });
      }
    }
    s.db.transaction(() => {
      s.revisions.setRowsAffected(d.id, 1, counts.rows);
      s.datasets.update(d.id, { state: 'ready' });
    })();
  } catch (err) {
    stream.close?.();
    s.datasets.remove(d.id);
    throw namingFile(file, err);
  }
  onProgress?.({ rows: counts.rows, quarantined: counts.quarantined, bytesRead: stream.totalBytes, totalBytes: stream.totalBytes, done: true });
  return { datasetId: d.id, format: stream.format, ...counts };
}

export interface PlainRowInput {
  kind: RowKind;
  messages: DatasetMessage[];
  split: DatasetSplit | null;
  tags?: string[];
}

/** A new dataset from rows in memory (GAtt synthesis, tests): one transaction, revision 1. */
export function createDataset(s: DatasetStore, name: string, format: string, rows: PlainRowInput[]): string {
  return s.db.transaction(() => {
    const d = s.datasets.create({ name, sourcePath: null, format, state: 'ready' });
    s.revisions.create(d.id, 1, `Created with ${rows.length} rows`, rows.length);
    s.datasets.update(d.id, { headRevision: 1 });
    s.rows.insert(
      d.id,
      1,
      rows.map((r, i) => ({
        kind: r.kind,
        messages: r.messages.map((m) => ({ role: m.role, content: m.content, train: m.train ?? true })),
        split: r.split,
        tags: r.tags,
        problems: rowProblems(r.kind, r.messages),
        sourceLine: null,
        ordinal: i,
      })),
    );
    return d.id;
  })();
}

function defaultName(file: string): string {
  return path.basename(file).replace(/\.(jsonl?|csv|tsv|parquet|txt)$/i, '') || path.basename(file);
}

/** Errors from reading say which file; a PaddockError keeps its code. */
function namingFile(file: string, err: unknown): Error {
  const msg = err instanceof Error ? err.message : String(err);
  const named = msg.includes(file) ? msg : `${file}: ${msg}`;
  return new PaddockError(err instanceof PaddockError ? err.code : 'BAD_REQUEST', named);
}
