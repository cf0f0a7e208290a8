// `paddock synth`: a random-weight GGUF of a real model shape (DESIGN.md "Synthetic shapes"), for
// benchmarks and tests at realistic sizes, with the real Llama 2 / Llama 3 vocabularies. Prints the path written.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SYNTHETIC_SHAPES, SYNTHETIC_TYPES, SyntheticShape, SyntheticType, loadAddon } from '../engine/addon';
import { resourcesDir } from '../core/paths';
import { UsageError, numberArg } from './fail';

export async function synthCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { shape: { type: 'string' }, type: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string' } },
    strict: true,
  });
  const shape = values.shape?.toLowerCase();
  const type = values.type?.toLowerCase();
  if (!shape || !(SYNTHETIC_SHAPES as readonly string[]).includes(shape)) {
    throw new UsageError(`synth needs --shape, one of: ${SYNTHETIC_SHAPES.join(', ')}`);
  }
  if (!type || !(SYNTHETIC_TYPES as readonly string[]).includes(type)) {
    throw new UsageError(`synth needs --type, one of: ${SYNTHETIC_TYPES.join(', ')}`);
  }
  if (!values.out) throw new UsageError('synth needs --out FILE');
  const seed = numberArg('seed', values.seed, 0, true);
  if (seed < 0) throw new UsageError('--seed must be a non-negative whole number');
  const out = path.resolve(values.out);
  // The real Llama 2 / Llama 3 vocabularies ship in resources/tokenizers (stories260k keeps its own).
  const vocabDir = path.join(resourcesDir(), 'tokenizers');
  if (!fs.existsSync(vocabDir)) throw new Error(`the vocabularies synth needs are missing (${vocabDir})`);
  const addon = loadAddon();
  const options = { shape: shape as SyntheticShape, type: type as SyntheticType, seed, vocabDir };
  await addon.writeSyntheticGguf(out, options);
  process.stdout.write(`${out}\n`);
}
