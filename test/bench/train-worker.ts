// One training benchmark case in its own process (so its memory is its own): load the model,
// build the trainer, run `warm` untimed and `timed` timed optimizer steps (forward, backward,
// AdamW) over fixed pseudo-random rows of `seq` tokens, every position trained. One JSON line.
import { loadAddon, NativeTrainRow } from '../../electron/engine/addon';

export interface TrainWorkerArgs {
  model: string;
  method: 'lora' | 'full';
  rank: number;
  targets: string;
  seq: number;
  threads: number;
  warm: number;
  timed: number;
}

export interface TrainWorkerResult {
  tokens_per_s: number;
  step_s: number;
  trainable: number;
  memory_mb: number;
  peak_rss_mb: number;
  load_ms: number;
  losses: number[];
}

const args = JSON.parse(process.argv[2]) as TrainWorkerArgs;

/** A fixed row of pseudo-random ids above the 3 specials, the same for every run of a case. */
function row(seq: number, vocab: number, salt: number): NativeTrainRow {
  let s = 12345 + salt;
  const ids = new Int32Array(seq + 1);
  for (let i = 0; i <= seq; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    ids[i] = 3 + (s % Math.min(vocab - 3, 30000));
  }
  return { tokens: ids.subarray(0, seq), targets: ids.subarray(1), weights: new Float32Array(seq).fill(1) };
}

async function main(): Promise<void> {
  const addon = loadAddon();
  const t0 = performance.now();
  const model = await addon.loadModel(args.model);
  const trainer = await addon.createTrainer(model, {
    method: args.method,
    rank: args.rank,
    alpha: 2 * args.rank,
    targets: args.targets,
    lr: 1e-4,
    maxSeqLen: args.seq,
    threads: args.threads,
  });
  const loadMs = performance.now() - t0;
  const losses: number[] = [];
  let timedS = 0;
  let tokens = 0;
  for (let i = 0; i < args.warm + args.timed; i++) {
    const t = performance.now();
    const r = await trainer.step([row(args.seq, model.info.vocabSize, i)]);
    losses.push(r.loss);
    if (i >= args.warm) {
      timedS += (performance.now() - t) / 1000;
      tokens += r.tokens;
    }
  }
  const result: TrainWorkerResult = {
    tokens_per_s: tokens / timedS,
    step_s: timedS / args.timed,
    trainable: trainer.trainableParameters,
    memory_mb: trainer.memoryBytes / 2 ** 20,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
    load_ms: loadMs,
    losses,
  };
  trainer.dispose();
  model.dispose();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error & { code?: string }).code ?? ''} ${(err as Error).message}\n`);
  process.exit(1);
});
