// Row-local validation: what is wrong with one row on its own (kept current on every edit).
import type { DatasetMessage, RowProblem } from '../../shared/contract-datasets';
import type { RowKind } from './dataset-stream';

export function rowProblems(kind: RowKind, messages: DatasetMessage[]): RowProblem[] {
  void kind;
  void messages;
  return [];
}
