// `paddock train`: a training run without the UI. stdout carries only one JSON line per optimizer
// step ({step, loss, lr, grad_norm, tokens_per_s}); notices go to stderr. Ctrl-C stops after the
// step in flight and checkpoints, so `--resume` continues from there.
import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import type { DatasetFormat } from '../core/datasets/sample';
import { isPresetName, PRESETS } from '../core/training/presets';
import { LORA_TARGET_NAMES, LoraTargetName, RunConfig, makeRunConfig } from '../core/training/run-config';
import { loadAddon } from '../engine/addon';
import { RunDir } from '../engine/train/run-dir';
import { TrainingRun } from '../engine/train/training-run';
import { parseDeviceFlags } from './devices';
import { UsageError, numberArg } from './fail';

const options = {
  model: { type: 'string' },
  tokenizer: { type: 'string' },
  data: { type: 'string' },
  format: { type: 'string' },
  method: { type: 'string' },
  rank: { type: 'string' },
  alpha: { type: 'string' },
  targets: { type: 'string' },
  dropout: { type: 'string' },
  steps: { type: 'string' },
  epochs: { type: 'string' },
  batch: { type: 'string' },
  lr: { type: 'string' },
  schedule: { type: 'string' },
  warmup: { type: 'string' },
  mask: { type: 'string' },
  seed: { type: 'string' },
  'save-every': { type: 'string' },
  'max-seq-len': { type: 'string' },
  threads: { type: 'string' },
  'checkpoint-activations': { type: 'boolean' },
  'no-pack': { type: 'boolean' },
  preset: { type: 'string' },
  out: { type: 'string' },
  resume: { type: 'boolean' },
  device: { type: 'string' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof options; strict: true }>>['values'];

function oneOf<T extends string>(flag: string, v: string | undefined, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!allowed.includes(v as T)) throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}, got "${v}"`);
  return v as T;
}

function targetsArg(v: string | undefined): LoraTargetName[] | undefined {
  if (v === undefined) return undefined;
  const list = v.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = list.filter((t) => !LORA_TARGET_NAMES.includes(t as LoraTargetName));
  if (!list.length || unknown.length) throw new UsageError(`--targets takes a list of ${LORA_TARGET_NAMES.join(',')}, got "${v}"`);
  return list as LoraTargetName[];
}

const int = (flag: string, v: string | undefined) => (v === undefined ? undefined : numberArg(flag, v, 0, true));
const num = (flag: string, v: string | undefined) => (v === undefined ? undefined : numberArg(flag, v, 0));

/** The flags given on the command line as run-config fields (undefined where not given). */
function givenConfig(v: Values): Partial<RunConfig> {
  if (v.preset !== undefined && !isPresetName(v.preset)) {
    throw new UsageError(`--preset must be one of ${Object.keys(PRESETS).join(', ')}, got "${v.preset}"`);
  }
  return {
    model: v.model,
    tokenizer: v.tokenizer,
    data: v.data,
    format: oneOf<DatasetFormat>('format', v.format, ['auto', 'alpaca', 'sharegpt', 'openai', 'oasst', 'completions', 'text', 'csv', 'parquet']),
    method: oneOf('method', v.method, ['lora', 'qlora', 'full'] as const),
    rank: int('rank', v.rank),
    alpha: num('alpha', v.alpha),
    targets: targetsArg(v.targets),
    dropout: num('dropout', v.dropout),
    steps: int('steps', v.steps),
    epochs: int('epochs', v.epochs),
    batch: int('batch', v.batch),
    lr: num('lr', v.lr),
    schedule: oneOf('schedule', v.schedule, ['constant', 'linear', 'cosine'] as const),
    warmup: int('warmup', v.warmup),
    mask: oneOf('mask', v.mask, ['all', 'last', 'gatt'] as const),
    seed: int('seed', v.seed),
    saveEvery: int('save-every', v['save-every']),
    maxSeqLen: int('max-seq-len', v['max-seq-len']),
    threads: int('threads', v.threads),
    checkpointActivations: v['checkpoint-activations'],
    pack: v['no-pack'] ? false : undefined,
    preset: v.preset as RunConfig['preset'],
    // Absent = the CPU, so runs (and their run.json) are exactly as before the CUDA backend.
    device: v.device === undefined ? undefined : parseDeviceFlags({ device: v.device }, 'cpu').device,
  };
}

/** --resume: the run's own config; only --steps may change (raised), other flags must agree with it. */
function resumedConfig(dir: RunDir, given: Partial<RunConfig>): RunConfig {
  const saved = dir.readConfig();
  for (const [key, value] of Object.entries(given)) {
    if (value === undefined || key === 'steps') continue;
    if (JSON.stringify(value) !== JSON.stringify(saved[key as keyof RunConfig])) {
      throw new UsageError(`--resume continues the run in ${dir.dir} as configured in run.json; ${key} there is ${JSON.stringify(saved[key as keyof RunConfig])}, not ${JSON.stringify(value)}`);
    }
  }
  if (given.steps !== undefined) {
    if (saved.steps !== undefined && given.steps < saved.steps) throw new UsageError(`--steps may only be raised on --resume (the run has ${saved.steps})`);
    const raised = { ...saved, steps: given.steps };
    dir.writeConfig(raised);
    return raised;
  }
  return saved;
}

export async function trainCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options, strict: true });
  if (!values.out) throw new UsageError('train needs --out DIR (the run directory)');
  const dir = new RunDir(values.out);
  const given = givenConfig(values);
  let config: RunConfig;
  if (values.resume) {
    config = resumedConfig(dir, given);
  } else {
    if (!given.model) throw new UsageError('train needs --model FILE');
    if (!given.data) throw new UsageError('train needs --data FILE');
    if (!given.method && !given.preset) throw new UsageError('train needs --method lora|qlora|full');
    if (fs.existsSync(dir.configFile)) throw new UsageError(`${dir.dir} already holds a run: continue it with --resume, or choose another --out`);
    if (!fs.existsSync(given.data)) throw new UsageError(`${given.data}: the data file does not exist`);
    try {
      config = makeRunConfig({
        ...given,
        model: given.model,
        data: given.data,
        method: given.method ?? PRESETS[given.preset!].config.method ?? 'lora',
        threads: given.threads ?? Math.min(os.cpus().length, 16),
      });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  const run = new TrainingRun(loadAddon(), dir, config, !!values.resume, {
    onStep: (m) => process.stdout.write(`${JSON.stringify({ step: m.step, loss: m.loss, lr: m.lr, grad_norm: m.grad_norm, tokens_per_s: m.tokens_per_s })}\n`),
    onLog: (msg) => process.stderr.write(`[train] ${msg}\n`),
    stepDelayMs: Number(process.env.PADDOCK_TRAIN_STEP_DELAY_MS ?? 0) || 0,
  });
  let interrupts = 0;
  const onSignal = () => {
    if (++interrupts > 1) process.exit(130);
    process.stderr.write('[train] stopping after this step (checkpointing); interrupt again to quit at once\n');
    run.cancel();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const outcome = await run.run();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.stderr.write(`[train] ${outcome.status} after step ${outcome.steps} of ${outcome.totalSteps}; run in ${dir.dir}\n`);
  if (outcome.status === 'cancelled') process.exitCode = 130;
}
