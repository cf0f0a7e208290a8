// `paddock mask --model F [--tokenizer F] --data F --row N --mode all|last|gatt`: the loss mask of
// one sample (0-based, after reading the file as `dataset import` does) as the trainer sees it —
// the model's chat template and tokenizer — as one JSON line {"tokens","pieces","weights"}.
import { parseArgs } from 'node:util';
import { readDatasetFile } from '../core/datasets/read-dataset';
import type { DatasetFormat } from '../core/datasets/sample';
import { templateForModel } from '../core/chat/templates';
import type { MaskMode } from '../core/training/packing';
import { loadAddon } from '../engine/addon';
import { tokenizeForTraining } from '../engine/training-rows';
import { UsageError, numberArg } from './fail';

const MODES: MaskMode[] = ['all', 'last', 'gatt'];
const FORMATS: DatasetFormat[] = ['auto', 'alpaca', 'sharegpt', 'openai', 'oasst', 'completions', 'text', 'csv', 'parquet'];

export async function maskCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      tokenizer: { type: 'string' },
      data: { type: 'string' },
      row: { type: 'string' },
      mode: { type: 'string' },
      format: { type: 'string' },
      oasst: { type: 'string' },
    },
    strict: true,
  });
  if (!values.model) throw new UsageError('mask needs --model FILE');
  if (!values.data) throw new UsageError('mask needs --data FILE');
  if (values.row === undefined) throw new UsageError('mask needs --row N (0-based)');
  const row = numberArg('row', values.row, 0, true);
  const mode = (values.mode ?? 'all') as MaskMode;
  if (!MODES.includes(mode)) throw new UsageError(`--mode must be one of ${MODES.join(', ')} (got "${values.mode}")`);
  const format = (values.format ?? 'auto') as DatasetFormat;
  if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')} (got "${values.format}")`);
  if (values.oasst && values.oasst !== 'best' && values.oasst !== 'all') throw new UsageError(`--oasst must be best or all (got "${values.oasst}")`);

  const data = await readDatasetFile(values.data, { format, oasst: values.oasst as 'best' | 'all' | undefined });
  if (row < 0 || row >= data.samples.length) {
    throw new UsageError(`--row ${row} is out of range: ${values.data} has ${data.samples.length} samples (${data.format}), rows 0..${data.samples.length - 1}`);
  }
  // The tokenizer and the template are all a mask needs: the weights are never loaded. Like
  // `tokenize`, --model may be a bare tokenizer file (no metadata: no template of its own).
  const addon = loadAddon();
  const tok = await addon.loadTokenizer(values.tokenizer ?? values.model);
  const metadata = values.tokenizer
    ? (await addon.readModelInfo(values.model, { tokenizerPath: values.tokenizer })).metadata
    : await addon.readModelInfo(values.model).then(
        (info) => info.metadata,
        () => ({}), // loadTokenizer read it: a tokenizer file, not a model
      );
  const template = templateForModel(metadata);
  process.stderr.write(`mask: ${data.format} row ${row}, mode ${mode}, template ${template.name}\n`);
  const problems = data.flagged.find((f) => f.index === row)?.problems;
  if (problems) process.stderr.write(`mask: row ${row} is flagged: ${problems.join(', ')}\n`);
  const sample = data.samples[row];
  if (mode === 'gatt' && sample.kind === 'chat' && sample.messages[0]?.role !== 'system') {
    // A GAtt row (gatt.synthesize) keeps its instruction in the system message; this one has none.
    process.stderr.write(`mask: row ${row} has no system message: not a GAtt row (the mask is the same: only the last reply trained)\n`);
  }
  const out = tokenizeForTraining(tok, sample, mode, { template, metadata });
  process.stdout.write(`${JSON.stringify({ tokens: out.tokens, pieces: out.pieces, weights: out.weights })}\n`);
}
