// `paddock dataset import F [--format ...] [--oasst best|all]` (DESIGN.md's CLI table): imports into
// $PADDOCK_HOME's paddock.db directly (no engine needed). Progress goes to stderr; the last stdout
// line is JSON {"dataset_id","rows","quarantined","flagged"}.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase } from '../core/db/connection';
import { datasetStore } from '../core/datasets/dataset-store';
import { importDataset } from '../core/datasets/import-job';
import { defaultDataDir, ensureDir } from '../core/paths';
import { ImportFormat } from '../shared/contract-datasets';
import { UsageError } from './fail';

const FORMATS = ImportFormat.options;

export async function datasetCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub !== 'import') throw new UsageError(`dataset takes the subcommand "import" (dataset import F [--format ...] [--oasst best|all]), got "${sub ?? ''}"`);
  const { positionals, values } = parseArgs({
    args: rest,
    options: { format: { type: 'string' }, oasst: { type: 'string' }, name: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1) throw new UsageError(`dataset import takes one file, got ${positionals.length ? positionals.join(' ') : 'none'}`);
  const format = (values.format ?? 'auto') as (typeof FORMATS)[number];
  if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')} (got "${values.format}")`);
  const oasst = values.oasst ?? 'best';
  if (oasst !== 'best' && oasst !== 'all') throw new UsageError(`--oasst must be best or all (got "${values.oasst}")`);

  const home = ensureDir(defaultDataDir());
  const db = openDatabase(path.join(home, 'paddock.db'));
  try {
    const started = Date.now();
    const out = await importDataset(datasetStore(db), { path: positionals[0], format, oasst, name: values.name }, (p) => {
      const pct = p.totalBytes ? Math.round((100 * p.bytesRead) / p.totalBytes) : 100;
      process.stderr.write(`dataset import: ${pct}% ${p.rows} rows, ${p.quarantined} quarantined${p.done ? '\n' : '\r'}`);
    });
    const secs = (Date.now() - started) / 1000;
    process.stderr.write(`dataset import: ${out.format}, ${out.rows} rows (${out.flagged} flagged), ${out.quarantined} quarantined in ${secs.toFixed(1)} s into ${home}\n`);
    process.stdout.write(`${JSON.stringify({ dataset_id: out.datasetId, rows: out.rows, quarantined: out.quarantined, flagged: out.flagged })}\n`);
  } finally {
    db.close();
  }
}
