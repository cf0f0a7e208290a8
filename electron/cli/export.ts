// `paddock export --run DIR --format peft|gguf-lora|gguf-merged [--type f16|q8_0|q4_k_m] --out PATH`:
// a trained run's adapter (PEFT folder or GGUF LoRA file) or its merged model (GGUF). stdout: the path.
import { parseArgs } from 'node:util';
import { loadAddon } from '../engine/addon';
import { RunDir } from '../engine/train/run-dir';
import { loadBaseModel } from '../engine/train/training-run';
import { UsageError } from './fail';

const formats = ['peft', 'gguf-lora', 'gguf-merged'] as const;
const types = ['f16', 'q8_0', 'q4_k_m'] as const;

export async function exportCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { run: { type: 'string' }, format: { type: 'string' }, type: { type: 'string' }, out: { type: 'string' } },
    strict: true,
  });
  if (!values.run) throw new UsageError('export needs --run DIR (a training run directory)');
  if (!values.out) throw new UsageError('export needs --out PATH (a folder for peft, a file otherwise)');
  const format = values.format as (typeof formats)[number];
  if (!formats.includes(format)) throw new UsageError(`--format must be one of ${formats.join(', ')}, got "${values.format ?? ''}"`);
  const type = (values.type ?? 'f16') as (typeof types)[number];
  if (!types.includes(type)) throw new UsageError(`--type must be one of ${types.join(', ')}, got "${values.type}"`);
  if (values.type && format !== 'gguf-merged') throw new UsageError('--type applies to --format gguf-merged only (adapters are written in F32)');
  const dir = new RunDir(values.run);
  const config = dir.readConfig();
  if (!dir.hasCheckpoint()) throw new Error(`${dir.checkpointFile}: the run has no checkpoint yet (nothing trained to export)`);
  const addon = loadAddon();
  const base = await loadBaseModel(addon, config);
  try {
    const written = await addon.exportTrainedRun(base, dir.checkpointFile, { format, type, out: values.out });
    process.stdout.write(`${written}\n`);
  } finally {
    base.dispose();
  }
}
