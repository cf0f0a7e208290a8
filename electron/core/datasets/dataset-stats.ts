// Statistics for the charts: token-length and turns histograms and the role mix, per split.
import type { DatasetStats } from '../../shared/contract-datasets';
import type { DatasetMessage, DatasetSplit } from './validation-types';

export interface RowForStats {
  messages: DatasetMessage[];
  split: DatasetSplit | null;
  tokens: number | null;
}

export function datasetStats(rows: Iterable<RowForStats>): DatasetStats {
  void rows;
  throw new Error('datasetStats: not implemented yet');
}
