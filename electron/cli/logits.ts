// `paddock logits --model F [--tokenizer F] --prompt T`: one forward over BOS + the prompt's tokens
// (no special-token parsing); stdout is one JSON line {"tokens":[...],"logits":[...]} holding the
// last position's logits over the whole vocabulary. For comparing engines and checking numerics.
// --device auto (default) | cpu | cuda and --gpu-layers N choose where it runs.
import { parseArgs } from 'node:util';
import { loadAddon } from '../engine/addon';
import { contextBackendReport } from '../engine/backend-report';
import { deviceOptions, parseDeviceFlags, reportBackend } from './devices';
import { UsageError, numberArg } from './fail';

export async function logitsCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { model: { type: 'string' }, tokenizer: { type: 'string' }, prompt: { type: 'string' }, threads: { type: 'string' }, ...deviceOptions },
    strict: true,
  });
  if (!values.model) throw new UsageError('logits needs --model FILE');
  if (values.prompt === undefined) throw new UsageError('logits needs --prompt TEXT (an empty prompt runs BOS alone)');
  const devices = parseDeviceFlags(values, 'auto');
  const threads = values.threads ? numberArg('threads', values.threads, 0, true) : undefined;
  const model = await loadAddon().loadModel(values.model, values.tokenizer ? { tokenizerPath: values.tokenizer } : undefined);
  const tokens = Int32Array.from([model.info.bosId, ...model.tokenize(values.prompt, false, false)]);
  const ctx = model.createContext({ contextLength: tokens.length, threads, ...devices });
  reportBackend(contextBackendReport(ctx, devices.device, model.info.layerCount));
  const logits = await ctx.decode(tokens);
  // Float32 values print as the shortest decimal that reads back to the same double: exact.
  process.stdout.write(`${JSON.stringify({ tokens: Array.from(tokens), logits: Array.from(logits) })}\n`);
  ctx.dispose();
  model.dispose();
}
