// Parquet through hyparquet (an ES module: loaded with a dynamic import), one row group at a time,
// so memory holds one group's rows. Rows are read through the same column mapping as CSV; a row's
// "line" is its 1-based record number. Snappy-compressed and uncompressed files read; other codecs
// (zstd, gzip, brotli) need hyparquet-compressors, which is not installed: the error says so.
import type { ColumnMapping } from '../../shared/contract-datasets';
import { capRaw } from './line-reader';
import { resolveMapping, tableRowToSample } from './table-mapping';
import type { SourceItem, TableSource } from './table-source';

export async function openParquetSource(file: string, given?: ColumnMapping): Promise<TableSource> {
  const hyparquet = await import('hyparquet');
  let buffer: Awaited<ReturnType<typeof hyparquet.asyncBufferFromFile>>;
  try {
    buffer = await hyparquet.asyncBufferFromFile(file);
  } catch (err) {
    throw new Error(`${file}: cannot read the data file (${(err as Error).message})`);
  }
  let metadata: Awaited<ReturnType<typeof hyparquet.parquetMetadataAsync>>;
  try {
    metadata = await hyparquet.parquetMetadataAsync(buffer);
  } catch (err) {
    throw new Error(`${file}: not a readable Parquet file (${(err as Error).message})`);
  }
  const columns = hyparquet.parquetSchema(metadata).children.map((c) => c.element.name);
  let mapping: ColumnMapping | Error;
  try {
    mapping = resolveMapping(file, columns, given);
  } catch (err) {
    mapping = err as Error;
  }
  let bytesRead = 0;
  async function* items(): AsyncGenerator<SourceItem> {
    if (mapping instanceof Error) throw mapping;
    const needed = [...new Set(Object.values(mapping).filter((c): c is string => !!c))];
    let rowStart = 0;
    for (const [g, group] of metadata.row_groups.entries()) {
      const rowEnd = rowStart + Number(group.num_rows);
      let rows: Record<string, unknown>[];
      try {
        rows = await hyparquet.parquetReadObjects({ file: buffer, metadata, columns: needed, rowStart, rowEnd });
      } catch (err) {
        throw new Error(`${file}: row group ${g + 1} of ${metadata.row_groups.length} can't be read (${(err as Error).message})`);
      }
      bytesRead += group.columns.reduce((n, c) => n + Number(c.meta_data?.total_compressed_size ?? 0), 0);
      for (const [i, row] of rows.entries()) {
        const line = rowStart + i + 1;
        try {
          yield { sample: tableRowToSample(row, mapping), line };
        } catch (err) {
          const raw = capRaw(JSON.stringify(row, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)));
          yield { quarantine: { line, raw, error: (err as Error).message } };
        }
      }
      rowStart = rowEnd;
    }
  }
  return { columns, mapping, items, bytesRead: () => bytesRead, close: () => undefined };
}
