// `paddock gatt-demo [--out DIR]`: the Ghost Attention demonstration of issue 6, one command, CPU.
// The bundled stories260K can't follow instructions, so (DESIGN.md) it is first fully fine-tuned
// (SFT) on dialogues that obey a sign-off instruction appended to every user turn. That SFT model
// then synthesizes GAtt data (Llama 2 sec. 3.3): 8-turn dialogues, the instruction appended to
// every user turn, replies sampled. From the SFT model two runs train the same optimizer steps on
// the same synthesized dialogues:
//   (a) GAtt: the instruction only in the system message, only the last reply trained (a row per turn);
//   (b) without GAtt: the dialogues as sampled (instruction in every user turn, every reply trained).
// The eval puts the instruction ONLY in the system message and measures, per turn 1..8, the share
// of greedy replies that end with the sign-off word (held-out user sentences). stdout: the table;
// DIR/gatt-demo.json: the numbers, settings and timings; progress goes to stderr. --sft-model F
// starts from an SFT model an earlier run wrote (DIR/sft.gguf) instead of training stage 1 again.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { AdherencePoint } from '../shared/contract-gatt';
import { GattInstructionOptions } from '../shared/contract-gatt';
import type { PlainRow } from '../core/datasets/dataset-service';
import { bundledModelFile } from '../core/paths';
import { makeRunConfig, type RunConfig } from '../core/training/run-config';
import { adherenceDialogues, adherencePerTurn, obeys } from '../core/training/gatt/adherence';
import { DemoDialogues, splitSentences } from '../core/training/gatt/demo-task';
import { gattRows, synthesisFormRows, withInstruction, type SynthesizedDialogue } from '../core/training/gatt/gatt-rows';
import { InstructionBuilder } from '../core/training/gatt/instructions';
import { loadAddon, type Addon } from '../engine/addon';
import { sampleDialogues } from '../engine/gatt-jobs';
import { CachedContext } from '../engine/generate';
import { RunDir } from '../engine/train/run-dir';
import { TrainingRun } from '../engine/train/training-run';
import { UsageError, numberArg } from './fail';

const TURNS = 8;
/** 8 turns of ChatML-as-text in a 512-piece vocabulary take ~500 tokens: train and sample in 1024. */
const CONTEXT = 1024;

interface DemoSettings {
  seed: number;
  sftRows: number;
  sftSteps: number;
  synthDialogues: number;
  steps: number;
  batch: number;
  lr: number;
  evalDialogues: number;
  threads: number;
}

const log = (msg: string) => process.stderr.write(`[gatt-demo] ${msg}\n`);

export async function gattDemoCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      seed: { type: 'string' },
      quick: { type: 'boolean' },
      'sft-steps': { type: 'string' },
      steps: { type: 'string' },
      dialogues: { type: 'string' },
      'eval-dialogues': { type: 'string' },
      threads: { type: 'string' },
      /** Skip stage 1 and start from this SFT model (a gguf an earlier run wrote as DIR/sft.gguf). */
      'sft-model': { type: 'string' },
    },
    strict: true,
  });
  // --quick: a plumbing check in seconds (tests); its numbers demonstrate nothing.
  const q = !!values.quick;
  const s: DemoSettings = {
    seed: numberArg('seed', values.seed, 0, true),
    sftRows: q ? 16 : 600,
    sftSteps: numberArg('sft-steps', values['sft-steps'], q ? 2 : 300, true),
    synthDialogues: numberArg('dialogues', values.dialogues, q ? 2 : 160, true),
    steps: numberArg('steps', values.steps, q ? 2 : 200, true),
    batch: 4,
    lr: 1e-3,
    evalDialogues: numberArg('eval-dialogues', values['eval-dialogues'], q ? 2 : 48, true),
    threads: numberArg('threads', values.threads, Math.min(os.cpus().length, 16), true),
  };
  for (const [k, v] of Object.entries(s)) if (k !== 'seed' && k !== 'lr' && !(v >= 1)) throw new UsageError(`--${k} must be at least 1`);
  const out = path.resolve(values.out ?? path.join(os.tmpdir(), 'paddock-gatt-demo'));
  fs.mkdirSync(out, { recursive: true });
  const base = bundledModelFile();
  if (!fs.existsSync(base)) throw new Error(`${base}: the bundled model is missing (run "npm run -s cli -- bundle-model")`);
  const addon = loadAddon();
  const started = performance.now();
  const timings: Record<string, number> = {};
  const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    const r = await fn();
    timings[name] = Math.round((performance.now() - t) / 100) / 10;
    log(`${name}: ${timings[name]} s`);
    return r;
  };
  const [trainSentences, evalSentences] = splitSentences(s.seed);
  const signoffs = (seed: number, shortenShare: number) =>
    new InstructionBuilder(GattInstructionOptions.parse({ kinds: ['signoff'], maxCombined: 1, shortenShare, seed }));
  const train = (name: string, model: string, rows: PlainRow[], mask: RunConfig['mask'], steps: number) =>
    timed(`train ${name}`, () => trainAndExport(addon, out, name, model, rows, mask, steps, s));

  // 1. SFT: obey the instruction that is right there in every user turn.
  const task = new DemoDialogues(s.seed, trainSentences);
  const sftRows = signoffs(s.seed + 1, 0).take(s.sftRows).map((i) => task.sftRow(i, 5));
  const sftModel = values['sft-model'] ? path.resolve(values['sft-model']) : await train('sft', base, sftRows, 'all', s.sftSteps);

  // 2. GAtt synthesis with the SFT model: the instruction appended to every user turn, replies sampled.
  const synthInstructions = signoffs(s.seed + 2, 0.5).take(s.synthDialogues);
  const synthUsers = synthInstructions.map(() => task.users(TURNS));
  const replies = await timed('synthesis', () =>
    sample(addon, sftModel, synthUsers.map((users, i) => ({ users: users.map((u) => withInstruction(u, synthInstructions[i])) })), 0.7, s.seed),
  );
  const dialogues: SynthesizedDialogue[] = replies.map((r, i) => ({ instruction: synthInstructions[i], users: synthUsers[i], replies: r }));
  const synthObeyed = share(dialogues.flatMap((d) => d.replies.map((r) => obeys(r, d.instruction))));
  log(`synthesized ${dialogues.length} dialogues; ${(100 * synthObeyed).toFixed(1)}% of the sampled replies obey`);

  // 3. Same steps, same dialogues: (a) GAtt form, (b) the dialogues as sampled.
  const gattModel = await train('gatt', sftModel, dialogues.flatMap((d) => gattRows(d, 'every')), 'gatt', s.steps);
  const plainModel = await train('no-gatt', sftModel, dialogues.flatMap((d) => synthesisFormRows(d, 'one')), 'all', s.steps);

  // 4. Adherence per turn, the instruction only in the system message, greedy replies.
  const evalSet = adherenceDialogues(signoffs(s.seed + 3, 0.5).take(s.evalDialogues), TURNS, s.seed + 4, evalSentences);
  const evaluate = (name: string, model: string) =>
    timed(`eval ${name}`, async () => {
      const r = await sample(addon, model, evalSet, 0, s.seed);
      return adherencePerTurn(r.map((replies, i) => ({ instruction: evalSet[i].instruction, replies })), TURNS);
    });
  const table = {
    sft: await evaluate('sft', sftModel),
    noGatt: await evaluate('no-gatt', plainModel),
    gatt: await evaluate('gatt', gattModel),
  };
  const wallSeconds = Math.round((performance.now() - started) / 100) / 10;
  const result = {
    task: 'end every reply with a sign-off word (1 of 8); instruction only in the system message at eval; greedy; held-out user sentences',
    model: 'stories260K (bundled), full fine-tuning',
    baseline: '(b) no-gatt: the same synthesized dialogues with the instruction in every user turn, every reply trained, same steps; sft: the SFT model alone',
    settings: { ...s, turns: TURNS, context: CONTEXT },
    synthesizedRepliesObeying: synthObeyed,
    adherence: table,
    turn5plus: { sft: late(table.sft), noGatt: late(table.noGatt), gatt: late(table.gatt) },
    timings,
    wallSeconds,
  };
  const jsonFile = path.join(out, 'gatt-demo.json');
  fs.writeFileSync(jsonFile, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(formatTable(table));
  process.stdout.write(`turns 5-8: GAtt ${pct(result.turn5plus.gatt)}, without GAtt ${pct(result.turn5plus.noGatt)}, SFT only ${pct(result.turn5plus.sft)}\n`);
  process.stdout.write(`wall time ${wallSeconds} s; ${jsonFile}\n`);
}

const share = (xs: boolean[]) => (xs.length ? xs.filter(Boolean).length / xs.length : 0);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** Share obeying over turns 5..8 together. */
function late(points: AdherencePoint[]): number {
  const at = points.filter((p) => p.turn >= 5);
  const total = at.reduce((n, p) => n + p.total, 0);
  return total ? at.reduce((n, p) => n + p.obeyed, 0) / total : 0;
}

function formatTable(t: Record<'sft' | 'noGatt' | 'gatt', AdherencePoint[]>): string {
  const lines = ['turn  SFT only  without GAtt  with GAtt'];
  for (let k = 0; k < TURNS; k++) {
    lines.push(`${String(k + 1).padStart(4)}  ${pct(t.sft[k].share).padStart(8)}  ${pct(t.noGatt[k].share).padStart(12)}  ${pct(t.gatt[k].share).padStart(9)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Samples the dialogues' replies with a model file (its own context, not shared with anything). */
async function sample(addon: Addon, modelFile: string, dialogues: { system?: string; users: string[] }[], temperature: number, seed: number): Promise<string[][]> {
  const model = await addon.loadModel(modelFile);
  const cache = new CachedContext(model.createContext({ contextLength: CONTEXT }));
  try {
    const { replies } = await sampleDialogues(addon, model, cache, dialogues, {
      settings: { temperature, topP: 0.95, topK: 40, maxTokens: 32, seed, stop: [] },
      onDialogue: (done, total) => done % 16 === 0 && log(`  ${done}/${total} dialogues`),
    });
    return replies;
  } finally {
    cache.ctx.dispose();
    model.dispose();
  }
}

/** Full fine-tuning of `modelFile` on the rows (written as OpenAI-chat JSONL), exported merged as DIR/NAME.gguf. */
async function trainAndExport(addon: Addon, out: string, name: string, modelFile: string, rows: PlainRow[], mask: RunConfig['mask'], steps: number, s: DemoSettings): Promise<string> {
  const data = path.join(out, `${name}.jsonl`);
  fs.writeFileSync(data, rows.map((r) => JSON.stringify({ messages: r.messages.map(({ role, content }) => ({ role, content })) })).join('\n') + '\n');
  const dir = new RunDir(path.join(out, `run-${name}`));
  fs.rmSync(dir.dir, { recursive: true, force: true });
  const config = makeRunConfig({
    model: modelFile, data, method: 'full', mask, steps, batch: s.batch, lr: s.lr, schedule: 'cosine', warmup: Math.ceil(steps / 20), finalRatio: 0.1,
    weightDecay: 0, maxSeqLen: CONTEXT, pack: true, seed: s.seed, saveEvery: steps, threads: s.threads,
  });
  let last = 0;
  await new TrainingRun(addon, dir, config, false, {
    onLog: (m) => log(`  ${name}: ${m}`),
    onStep: (m) => {
      if (m.step % 50 === 0 || m.step === m.total_steps) log(`  ${name} step ${m.step}/${m.total_steps} loss ${m.loss.toFixed(3)}`);
      last = m.step;
    },
  }).run();
  if (last !== steps) throw new Error(`${name}: the run stopped after ${last} of ${steps} steps`);
  const base = await addon.loadModel(modelFile);
  try {
    return await addon.exportTrainedRun(base, dir.checkpointFile, { format: 'gguf-merged', type: 'f16', out: path.join(out, `${name}.gguf`) });
  } finally {
    base.dispose();
  }
}
