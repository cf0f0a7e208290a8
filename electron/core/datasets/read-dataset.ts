// Reads a training data file into samples (for `train`, `mask` and the engine's training data): the
// sample stream collected whole — the format logic (detection, readers, quarantine) is the stream's.
// What can't be read is quarantined (with its line and why); what reads but is dubious is flagged.
import type { ColumnMapping } from '../../shared/contract-datasets';
import type { OasstPaths } from './oasst';
import type { DatasetFormat, QuarantinedLine, ReadResult, TrainingSample } from './sample';
import { sampleProblems } from './sample-problems';
import { openSampleStream } from './sample-stream';

export interface ReadDatasetOptions {
  format?: DatasetFormat;
  /** OASST trees: the best-ranked path per tree (default) or every path ending on an assistant reply. */
  oasst?: OasstPaths;
  /** CSV / Parquet: which column holds what (guessed from the column names when absent). */
  columns?: ColumnMapping;
}

export async function readDatasetFile(file: string, opts: ReadDatasetOptions = {}): Promise<ReadResult> {
  const stream = await openSampleStream(file, opts);
  const samples: TrainingSample[] = [];
  const quarantined: QuarantinedLine[] = [];
  for await (const batch of stream.batches()) {
    for (const s of batch.samples) samples.push(s.sample);
    for (const q of batch.quarantined) quarantined.push({ line: q.line, error: q.error });
  }
  const flagged = samples.map((s, index) => ({ index, problems: sampleProblems(s) })).filter((f) => f.problems.length);
  quarantined.sort((a, b) => a.line - b.line);
  return { format: stream.format, samples, quarantined, flagged };
}
