// What CSV and Parquet readers share: the header, the mapping it resolved to, and the rows read
// through it (a row that isn't a sample is quarantined with its raw text and why).
import type { ColumnMapping } from '../../shared/contract-datasets';
import type { BrokenRecord } from './json-records';
import type { TrainingSample } from './sample';

export type SourceItem = { sample: TrainingSample; line: number | null } | { quarantine: BrokenRecord };

export interface TableSource {
  columns: string[];
  /** The mapping in use, or why none could be chosen (a preview still shows the columns). */
  mapping: ColumnMapping | Error;
  /** CSV: the field delimiter found (a fixed line is parsed with it). */
  delimiter?: string;
  items(): AsyncGenerator<SourceItem>;
  bytesRead(): number;
  /** Closes the file when reading stops early. */
  close(): void;
}
