// One engine's answers for the parity test (test/integration/parity.test.ts), in its own process so
// the two engines never share threads or memory: the teacher-forced logits at every position
// (raw float32, positions x vocab, written to `out`) and a greedy continuation (JSON on stdout).
import fs from 'node:fs';
import { loadAddon } from '../../electron/engine/addon';
import { getPeerLlama } from '../support/peer';

export interface ParityArgs {
  engine: 'paddock' | 'llama.cpp';
  model: string;
  vocabSize: number;
  /** Fed one after another; the logits after each one are recorded. */
  teacher: number[];
  greedyPrompt: number[];
  greedyTokens: number;
  threads: number;
  /** KV cache type for both engines ('f16' is both engines' default). */
  kvCacheType: 'f16' | 'f32';
  out: string;
}

export interface ParityResult {
  greedy: number[];
}

const args = JSON.parse(process.argv[2]) as ParityArgs;
const contextLength = Math.max(args.teacher.length, args.greedyPrompt.length + args.greedyTokens) + 8;

function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

async function paddock(logits: Float32Array): Promise<ParityResult> {
  const model = await loadAddon().loadModel(args.model);
  const ctx = model.createContext({ contextLength, threads: args.threads, kvCacheType: args.kvCacheType });
  for (let i = 0; i < args.teacher.length; i++) logits.set(await ctx.decode(Int32Array.of(args.teacher[i])), i * args.vocabSize);
  ctx.truncate(0);
  const greedy: number[] = [];
  let next = await ctx.decode(Int32Array.from(args.greedyPrompt));
  while (greedy.length < args.greedyTokens) {
    const tok = argmax(next);
    if (model.isEog(tok)) break; // as llama.cpp's evaluate(): an end-of-generation token ends it, unyielded
    greedy.push(tok);
    next = await ctx.decode(Int32Array.of(tok));
  }
  return { greedy };
}

async function llamaCpp(logits: Float32Array): Promise<ParityResult> {
  const llama = await getPeerLlama();
  const model = await llama.loadModel({ modelPath: args.model });
  const kv = args.kvCacheType.toUpperCase();
  const context = await model.createContext({
    contextSize: contextLength,
    threads: args.threads,
    experimentalKvCacheKeyType: kv,
    experimentalKvCacheValueType: kv,
    // llama.cpp's CPU flash attention (its default, "auto") ignores the KV type asked for
    // (measured: identical logits with F16 and F32); its plain attention path honours it.
    ...(kv === 'F32' ? { flashAttention: false } : {}),
  });
  const seq = context.getSequence();
  // controlledEvaluate returns, per input token asking for it, the raw next-token logits (full vocabulary).
  const input = args.teacher.map((t) => [t, { generateNext: { logits: true } }]);
  const res = (await seq.controlledEvaluate(input)) as ({ next: { logits?: Map<number, number> } } | undefined)[];
  for (let i = 0; i < args.teacher.length; i++) {
    const m = res[i]?.next.logits;
    if (!m || m.size !== args.vocabSize) throw new Error(`llama.cpp gave ${m?.size ?? 0} logits at position ${i}, expected ${args.vocabSize}`);
    for (const [tok, v] of m) logits[i * args.vocabSize + tok] = v;
  }
  await seq.clearHistory();
  const greedy: number[] = [];
  for await (const tok of seq.evaluate(args.greedyPrompt, { temperature: 0 })) {
    greedy.push(tok as number);
    if (greedy.length >= args.greedyTokens) break;
  }
  return { greedy };
}

const logits = new Float32Array(args.teacher.length * args.vocabSize);
(args.engine === 'paddock' ? paddock(logits) : llamaCpp(logits)).then(
  (r) => {
    fs.writeFileSync(args.out, Buffer.from(logits.buffer, logits.byteOffset, logits.byteLength));
    process.stdout.write(`${JSON.stringify(r)}\n`);
    process.exit(0);
  },
  (err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
