// The datasets workbench's service: import (streamed, with quarantine), rows edited as revisions
// (undo/redo, per-row history, version ids), validation, stats, mask preview and export.
import type { CoreDeps } from '../core-deps';
import type { DatasetMessage, DatasetSplit } from '../../shared/contract-datasets';

/** A row as other areas (training, GAtt) read and write it. */
export interface PlainRow {
  kind: 'chat' | 'completion' | 'text';
  messages: DatasetMessage[];
  split: DatasetSplit | null;
  tags?: string[];
}

export class DatasetService {
  constructor(private readonly deps: CoreDeps) {}

  /**
   * Writes the rows of a pinned version (`${datasetId}@${revision}`) to an OpenAI-chat JSONL file
   * (assistant turns with train=false carry "weight": 0), for a training run's engine job.
   * `split` 'all' writes every live row; rows with no split count as train.
   */
  async materialize(versionId: string, split: DatasetSplit | 'all', file: string): Promise<{ path: string; rows: number }> {
    void this.deps;
    throw new Error(`materialize ${versionId} ${split} ${file}: not implemented yet`);
  }

  /** The live rows of a pinned version, in dataset order. */
  readVersion(versionId: string): PlainRow[] {
    throw new Error(`readVersion ${versionId}: not implemented yet`);
  }

  /** A new dataset holding these rows (one import revision); returns its id. */
  createFromRows(name: string, format: string, rows: PlainRow[]): string {
    throw new Error(`createFromRows ${name} ${format} ${rows.length}: not implemented yet`);
  }
}
