// One engine measured in its own process (so load time and peak RSS are its own):
// load, prompt processing of `pp` tokens, then `tg` greedy decode steps. Prints one JSON line.
import { loadAddon } from '../../electron/engine/addon';
import { getPeerLlama } from '../support/peer';

interface Args {
  engine: 'paddock' | 'llama.cpp';
  model: string;
  pp: number;
  tg: number;
  threads: number;
  /** From the model file (read once by the parent), so both engines get the same prompt ids. */
  vocabSize: number;
  bosId: number;
}

const args = JSON.parse(process.argv[2]) as Args;

/** A fixed pseudo-random prompt (the same ids for both engines), avoiding the first 3 special ids. */
function promptTokens(n: number, vocab: number, bos: number): number[] {
  let s = 12345;
  const out = [bos];
  for (let i = 1; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out.push(3 + (s % Math.min(vocab - 3, 30000)));
  }
  return out;
}

async function paddock() {
  const addon = loadAddon();
  const t0 = performance.now();
  const model = await addon.loadModel(args.model);
  const ctx = model.createContext({ contextLength: args.pp + args.tg + 8, threads: args.threads });
  const loadMs = performance.now() - t0;
  const prompt = Int32Array.from(promptTokens(args.pp, args.vocabSize, args.bosId));
  const t1 = performance.now();
  await ctx.decode(prompt);
  const ppMs = performance.now() - t1;
  ctx.truncate(0);
  const sampler = addon.createSampler({ temperature: 0, topP: 1, topK: 0, seed: 0 });
  let logits = await ctx.decode(Int32Array.of(model.info.bosId));
  const t2 = performance.now();
  for (let i = 0; i < args.tg; i++) logits = await ctx.decode(Int32Array.of(sampler.sample(logits)));
  const tgMs = performance.now() - t2;
  return { loadMs, ppMs, tgMs };
}

async function llamaCpp() {
  const llama = await getPeerLlama();
  const t0 = performance.now();
  const model = await llama.loadModel({ modelPath: args.model });
  const context = await model.createContext({ contextSize: args.pp + args.tg + 8, threads: args.threads, batchSize: args.pp });
  const loadMs = performance.now() - t0;
  const seq = context.getSequence();
  const t1 = performance.now();
  await seq.evaluateWithoutGeneratingNewTokens(promptTokens(args.pp, args.vocabSize, args.bosId));
  const ppMs = performance.now() - t1;
  await seq.clearHistory();
  let n = 0;
  let t2 = 0;
  for await (const _ of seq.evaluate([args.bosId], { temperature: 0 })) {
    if (n === 0) t2 = performance.now(); // the first step is BOS's forward, as in Paddock's loop
    if (++n > args.tg) break;
  }
  const tgMs = performance.now() - t2;
  return { loadMs, ppMs, tgMs };
}

(args.engine === 'paddock' ? paddock() : llamaCpp()).then(
  (r) => {
    process.stdout.write(
      `${JSON.stringify({
        load_ms: r.loadMs,
        pp_tps: (args.pp / r.ppMs) * 1000,
        tg_tps: (args.tg / r.tgMs) * 1000,
        peak_rss_mb: process.resourceUsage().maxRSS / 1024,
      })}\n`,
    );
    process.exit(0);
  },
  (err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
