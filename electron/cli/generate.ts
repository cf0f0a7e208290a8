// `paddock generate`: text from a model file, streamed to stdout (and nothing else on stdout).
import { parseArgs } from 'node:util';
import { randomInt } from 'node:crypto';
import { loadAddon } from '../engine/addon';
import { CachedContext, generate } from '../engine/generate';
import { contextBackendReport } from '../engine/backend-report';
import { deviceOptions, parseDeviceFlags, reportBackend } from './devices';
import { UsageError, numberArg } from './fail';

export async function generateCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      tokenizer: { type: 'string' },
      prompt: { type: 'string' },
      'max-tokens': { type: 'string' },
      temperature: { type: 'string' },
      'top-p': { type: 'string' },
      'top-k': { type: 'string' },
      seed: { type: 'string' },
      adapter: { type: 'string' },
      'adapter-scale': { type: 'string' },
      threads: { type: 'string' },
      ...deviceOptions,
    },
    strict: true,
  });
  if (!values.model) throw new UsageError('generate needs --model FILE');
  const devices = parseDeviceFlags(values, 'auto');
  const settings = {
    temperature: numberArg('temperature', values.temperature, 0.8),
    topP: numberArg('top-p', values['top-p'], 0.95),
    topK: numberArg('top-k', values['top-k'], 40, true),
    maxTokens: numberArg('max-tokens', values['max-tokens'], 256, true),
    seed: numberArg('seed', values.seed, randomInt(0, 2 ** 31), true),
    stop: [] as string[],
  };
  const addon = loadAddon();
  const model = await addon.loadModel(values.model, values.tokenizer ? { tokenizerPath: values.tokenizer } : undefined);
  const threads = values.threads ? numberArg('threads', values.threads, 0, true) : undefined;
  const ctx = model.createContext({ threads, ...devices });
  reportBackend(contextBackendReport(ctx, devices.device, model.info.layerCount));
  if (values.adapter) {
    // A GGUF LoRA adapter or a PEFT folder, applied unmerged on the base (`export` makes both).
    const adapter = await addon.loadAdapter(model, values.adapter);
    if (!ctx.setAdapters) throw new Error('this engine build cannot attach adapters');
    ctx.setAdapters([{ adapter, scale: numberArg('adapter-scale', values['adapter-scale'], 1) }]);
  } else if (values['adapter-scale']) {
    throw new UsageError('--adapter-scale needs --adapter');
  }
  const cache = new CachedContext(ctx);
  const prompt = values.prompt ?? '';
  const promptTokens = model.tokenize(prompt, true);
  const { stats } = await generate(addon, model, cache, promptTokens, {
    settings,
    onText: (t) => process.stdout.write(t),
  });
  process.stderr.write(
    `\n[paddock] ${stats.completionTokens} tokens, ${stats.tokensPerSecond.toFixed(1)} tok/s, first token ${stats.timeToFirstTokenMs.toFixed(1)} ms, seed ${stats.seed}, stop: ${stats.stopReason}\n`,
  );
  cache.ctx.dispose();
  model.dispose();
}
