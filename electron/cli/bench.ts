// `paddock bench [engine|train|dataset|all] [--models id,id]`: the benchmarks of a source checkout
// (test/bench/run.ts, with its llama.cpp peer installed on demand), table on stdout. An installed
// app has no source tree, tsx or peer, so it says so rather than pretending to measure.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from './fail';

const kinds = ['engine', 'train', 'dataset', 'all'];

/** The checkout's root (dist/electron/cli or electron/cli below it) when it has the bench, else undefined. */
function sourceTree(): string | undefined {
  return [path.resolve(__dirname, '../../..'), path.resolve(__dirname, '../..')].find((root) =>
    fs.existsSync(path.join(root, 'test/bench/run.ts')),
  );
}

export async function benchCommand(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({ args: argv, options: { models: { type: 'string' } }, allowPositionals: true, strict: true });
  const kind = positionals[0] ?? 'all';
  if (!kinds.includes(kind) || positionals.length > 1) throw new UsageError(`bench takes one of ${kinds.join(', ')}, got "${positionals.join(' ')}"`);
  const root = sourceTree();
  if (!root) {
    throw new UsageError('bench runs from a source checkout of Paddock (it needs test/bench and its dev tools); this installation has none');
  }
  try {
    require.resolve('tsx', { paths: [root] });
  } catch {
    throw new UsageError(`bench needs the dev dependencies of ${root} (tsx): run "npm install" there`);
  }
  // --import resolves from the working directory: the checkout's own tsx.
  const args = ['--import', 'tsx', path.join(root, 'test/bench/run.ts'), kind];
  if (values.models) args.push('--models', values.models);
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 128 : 1)));
  });
  if (code !== 0) throw new Error(`the benchmark exited with code ${code}`);
}
