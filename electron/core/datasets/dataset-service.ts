// The datasets workbench's service: import (streamed, with quarantine), rows edited as revisions
// (undo/redo, per-row history, version ids), validation, stats, mask preview and export.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CoreDeps } from '../core-deps';
import type {
  DatasetMessage,
  DatasetRow,
  DatasetSplit,
  DatasetSummary,
  QuarantinedRow,
  RowFilter,
  ValidationReport,
} from '../../shared/contract-datasets';
import { RowProblem } from '../../shared/contract-datasets';
import { PaddockError } from '../errors';
import { writeDatasetExport, type ExportFormatName } from './dataset-export';
import { DatasetEdits, type BulkAction, type RowEdit } from './dataset-edits';
import { datasetStats } from './dataset-stats';
import { datasetStore, requireDataset, requireRow, type DatasetStore } from './dataset-store';
import { parseRecordText } from './dataset-stream';
import { parseVersionId, readVersionRows, rowHistoryOf, versionRows } from './dataset-versions';
import { createDataset, importDataset, type ImportRequest } from './import-job';
import { maskPreview } from './mask-preview';
import { writeTrainingJsonl } from './training-file';
import { validateDataset } from './validate-dataset';

/** A row as other areas (training, GAtt) read and write it. */
export interface PlainRow {
  kind: 'chat' | 'completion' | 'text';
  messages: DatasetMessage[];
  split: DatasetSplit | null;
  tags?: string[];
}

export class DatasetService {
  readonly store: DatasetStore;
  private readonly edits: DatasetEdits;

  constructor(private readonly deps: CoreDeps) {
    this.store = datasetStore(deps.db);
    this.edits = new DatasetEdits(this.store);
    // An import a crash interrupted never shows as a half dataset.
    this.store.datasets.removeUnfinished();
  }

  list(): DatasetSummary[] {
    return this.store.datasets.listReady().map((d) => this.store.datasets.summary(d));
  }

  get(datasetId: string): DatasetSummary {
    return this.store.datasets.summary(requireDataset(this.store, datasetId));
  }

  async import(req: ImportRequest & { importId?: string }): Promise<{ dataset: DatasetSummary; rows: number; quarantined: number; flagged: number }> {
    const importId = req.importId ?? randomUUID();
    const out = await importDataset(this.store, req, (p) => this.deps.emit('datasets.importProgress', { importId, ...p }));
    this.changed(out.datasetId, 1);
    return { dataset: this.get(out.datasetId), rows: out.rows, quarantined: out.quarantined, flagged: out.flagged };
  }

  rename(datasetId: string, name: string): DatasetSummary {
    requireDataset(this.store, datasetId);
    this.store.datasets.update(datasetId, { name: name.trim() || name });
    return this.get(datasetId);
  }

  remove(datasetId: string): void {
    requireDataset(this.store, datasetId);
    this.store.datasets.remove(datasetId);
  }

  rows(datasetId: string, filter: RowFilter, offset: number, limit: number) {
    requireDataset(this.store, datasetId);
    return this.store.rows.page(datasetId, filter, offset, limit);
  }

  row(rowId: string): DatasetRow {
    const row = requireRow(this.store, rowId);
    return this.store.rows.toContract(row, this.store.rows.indexOf(row));
  }

  rowHistory(rowId: string) {
    return rowHistoryOf(this.store, requireRow(this.store, rowId, { allowDeleted: true }));
  }

  updateRow(rowId: string, edit: RowEdit): DatasetRow {
    const row = requireRow(this.store, rowId);
    const revision = this.edits.updateRow(row, edit);
    this.changed(row.datasetId, revision);
    return this.row(rowId);
  }

  addRow(datasetId: string, init: RowEdit & { messages: DatasetMessage[] }): DatasetRow {
    requireDataset(this.store, datasetId);
    const { revision, rowId } = this.edits.addRow(datasetId, { kind: 'chat', messages: init.messages, split: init.split, tags: init.tags });
    this.changed(datasetId, revision);
    return this.row(String(rowId));
  }

  bulk(datasetId: string, target: { rowIds?: string[]; filter?: RowFilter }, action: BulkAction): { affected: number; dataset: DatasetSummary } {
    requireDataset(this.store, datasetId);
    if (!target.rowIds && !target.filter) throw new PaddockError('BAD_REQUEST', 'datasets.bulk needs rowIds or a filter.');
    const ids = target.rowIds ? target.rowIds.map(Number).filter(Number.isSafeInteger) : this.store.rows.matchingIds(datasetId, target.filter!);
    const { revision, affected } = this.edits.bulk(datasetId, ids, action);
    this.changed(datasetId, revision);
    return { affected, dataset: this.get(datasetId) };
  }

  autoSplit(datasetId: string, shares: { validation: number; test: number }, seed: number): DatasetSummary {
    if (shares.validation + shares.test > 1) throw new PaddockError('BAD_REQUEST', `validation (${shares.validation}) and test (${shares.test}) shares add up to more than 1.`);
    this.changed(datasetId, this.edits.autoSplit(datasetId, shares, seed));
    return this.get(datasetId);
  }

  undo(datasetId: string): DatasetSummary {
    this.changed(datasetId, this.edits.undo(datasetId));
    return this.get(datasetId);
  }

  redo(datasetId: string): DatasetSummary {
    this.changed(datasetId, this.edits.redo(datasetId));
    return this.get(datasetId);
  }

  revisions(datasetId: string) {
    requireDataset(this.store, datasetId);
    return this.store.revisions.list(datasetId).map((r) => ({
      revision: r.revision,
      description: r.description,
      createdAt: r.createdAt,
      rowsAffected: r.rowsAffected,
      undone: r.undone,
    }));
  }

  quarantine(datasetId: string): QuarantinedRow[] {
    requireDataset(this.store, datasetId);
    return this.store.quarantine.list(datasetId);
  }

  /** Re-parses a corrected line as the dataset's format; it becomes a row at its line's place (one revision). */
  fixQuarantined(id: string, raw: string): DatasetRow {
    const q = this.store.quarantine.get(id);
    if (!q) throw new PaddockError('NOT_FOUND', `No quarantined line with id ${id}.`);
    const d = requireDataset(this.store, q.datasetId);
    let parsed;
    try {
      parsed = parseRecordText(d.format, raw, d.recordContext ?? undefined);
    } catch (err) {
      // Keep the user's attempt and say what is still wrong with it.
      const error = (err as Error).message;
      this.store.quarantine.restore({ ...q, raw, error });
      throw new PaddockError('BAD_REQUEST', `Line ${q.line} still doesn't read as ${d.format}: ${error}`);
    }
    const { revision, rowId } = this.edits.addRow(
      d.id,
      { kind: parsed.kind, messages: parsed.messages, sourceLine: q.line, ordinal: this.store.rows.ordinalForLine(d.id, q.line) },
      `Fixed quarantined line ${q.line}`,
      q,
    );
    this.changed(d.id, revision);
    return this.row(String(rowId));
  }

  dropQuarantined(id: string): void {
    if (!this.store.quarantine.remove(id)) throw new PaddockError('NOT_FOUND', `No quarantined line with id ${id}.`);
  }

  /** Recomputes every live row's problems (and token counts with a model), stored in one transaction. */
  async validate(datasetId: string, opts: { modelId?: string; maxTokens?: number; nearDuplicateThreshold: number }): Promise<ValidationReport> {
    const d = requireDataset(this.store, datasetId);
    const started = performance.now();
    const model = opts.modelId ? this.deps.models.get(opts.modelId) : null;
    const rows = [...this.store.rows.iterateLive(datasetId)].map((r) => ({ id: String(r.id), kind: r.kind, messages: r.messages, split: r.split }));
    const outcome = await validateDataset(rows, { engine: this.deps.engine, model, maxTokens: opts.maxTokens, nearDuplicateThreshold: opts.nearDuplicateThreshold });
    // Every problem is counted, zero included (the report lists them all).
    const counts = Object.fromEntries(RowProblem.options.map((p) => [p, 0])) as Record<RowProblem, number>;
    let flaggedRows = 0;
    const results = rows.map((r) => {
      const problems = outcome.problems.get(r.id) ?? [];
      if (problems.length) flaggedRows++;
      for (const p of problems) counts[p]++;
      return { id: Number(r.id), problems, tokens: outcome.tokens?.get(r.id) ?? null };
    });
    const report: ValidationReport = {
      datasetId,
      revision: this.store.datasets.get(datasetId)?.headRevision ?? d.headRevision,
      counts,
      flaggedRows,
      modelId: model?.id ?? null,
      maxTokens: outcome.maxTokens,
      nearDuplicateThreshold: outcome.nearDuplicateThreshold,
      durationMs: performance.now() - started,
    };
    this.store.db.transaction(() => {
      this.store.rows.writeValidation(results);
      this.store.datasets.saveValidation(report);
    })();
    this.changed(datasetId, report.revision);
    return report;
  }

  lastValidation(datasetId: string): ValidationReport | null {
    requireDataset(this.store, datasetId);
    return this.store.datasets.lastValidation(datasetId);
  }

  stats(datasetId: string) {
    requireDataset(this.store, datasetId);
    return datasetStats(this.store.rows.iterateLive(datasetId));
  }

  maskPreview(rowId: string, modelId: string, mode: 'all' | 'last' | 'gatt') {
    const row = requireRow(this.store, rowId);
    return maskPreview(this.deps.engine, this.deps.models.get(modelId), { kind: row.kind, messages: row.messages }, mode);
  }

  /** Writes one split (rows with no split count as train) or all; default path in the data folder's exports/. */
  async export(datasetId: string, format: ExportFormatName, split: DatasetSplit | 'all', file?: string): Promise<{ path: string; rows: number }> {
    const d = requireDataset(this.store, datasetId);
    const out = path.resolve(file ?? path.join(this.exportsDir(), `${safeName(d.name)}-${split}-${format}.jsonl`));
    fs.mkdirSync(path.dirname(out), { recursive: true });
    const rows = await writeDatasetExport(inSplit(this.store.rows.iterateLive(datasetId), split), format, out);
    return { path: out, rows };
  }

  /**
   * Writes the rows of a pinned version (`${datasetId}@${revision}`) to an OpenAI-chat JSONL file
   * (assistant turns with train=false carry "weight": 0), for a training run's engine job.
   * `split` 'all' writes every live row; rows with no split count as train.
   */
  async materialize(versionId: string, split: DatasetSplit | 'all', file: string): Promise<{ path: string; rows: number }> {
    const { datasetId, revision } = parseVersionId(versionId);
    const rows = await writeTrainingJsonl(() => inSplit(versionRows(this.store, datasetId, revision), split), file);
    return { path: file, rows };
  }

  /** The live rows of a pinned version, in dataset order. */
  readVersion(versionId: string): PlainRow[] {
    // A bare dataset id means its head (GAtt synthesis takes either).
    const { datasetId, revision } = versionId.includes('@') ? parseVersionId(versionId) : { datasetId: versionId, revision: this.get(versionId).revision };
    return readVersionRows(this.store, datasetId, revision).map((r) => ({ kind: r.kind, messages: r.messages, split: r.split, tags: r.tags }));
  }

  /** A new dataset holding these rows (one import revision); returns its id. */
  createFromRows(name: string, format: string, rows: PlainRow[]): string {
    const id = createDataset(this.store, name, format, rows);
    this.changed(id, 1);
    return id;
  }

  private changed(datasetId: string, revision: number): void {
    this.deps.emit('datasets.changed', { datasetId, revision });
  }

  private exportsDir(): string {
    return this.deps.dataDir === ':memory:' ? path.join(os.tmpdir(), 'paddock-exports') : path.join(this.deps.dataDir, 'exports');
  }
}

function* inSplit<R extends { split: DatasetSplit | null }>(rows: Iterable<R>, split: DatasetSplit | 'all'): Generator<R> {
  for (const r of rows) if (split === 'all' || (r.split ?? 'train') === split) yield r;
}

const safeName = (name: string) => name.replace(/[^\w.-]+/g, '_').replace(/^_+|_+$/g, '') || 'dataset';
