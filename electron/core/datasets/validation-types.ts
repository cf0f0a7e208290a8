// Types validation shares with the contract, re-exported so the validation files import one place.
import type { DatasetMessage, DatasetSplit, RowProblem } from '../../shared/contract-datasets';
import type { ModelRecord } from '../../shared/contract';

export type { DatasetMessage, DatasetSplit, RowProblem };
/** The parts of a model record that tokenizing needs. */
export type ModelRecordLike = Pick<ModelRecord, 'id' | 'path' | 'tokenizerPath' | 'contextLength' | 'chatTemplate'>;
