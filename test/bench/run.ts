// `npm run bench [engine|train|all]`: Paddock beside llama.cpp (node-llama-cpp, CPU prebuilt) on the
// same GGUF files in the same run, each engine in its own process, printed as a ratio table.
// `--models id,id` (or $PADDOCK_BENCH_MODELS) limits the engine bench to some of the models.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SyntheticShape, SyntheticType, loadAddon } from '../../electron/engine/addon';
import { ensurePeer } from '../support/peer';
import { ensureSynthModel } from './synth-cache';

const benchDir = __dirname;
const repo = path.resolve(benchDir, '../..');
const threads = Number(process.env.PADDOCK_BENCH_THREADS ?? Math.min(os.cpus().length, 16));
const { positionals, values: flags } = parseArgs({ options: { models: { type: 'string' } }, allowPositionals: true, strict: true });
const which = positionals[0] ?? 'all';

interface Case {
  /** What --models / PADDOCK_BENCH_MODELS name it by. */
  id: string;
  label: string;
  /** The bundled file, or a synthetic shape written on first use. */
  file?: string;
  synth?: [SyntheticShape, SyntheticType];
  pp: number;
  tg: number;
}

const allCases: Case[] = [
  { id: 'stories260k', label: 'stories260K F32', file: path.join(repo, 'resources/models/stories260K.gguf'), pp: 256, tg: 128 },
  { id: 'tinyllama-1.1b-f16', label: 'TinyLlama-1.1B F16', synth: ['tinyllama-1.1b', 'f16'], pp: 512, tg: 128 },
  { id: 'tinyllama-1.1b-q8_0', label: 'TinyLlama-1.1B Q8_0', synth: ['tinyllama-1.1b', 'q8_0'], pp: 512, tg: 128 },
  { id: 'tinyllama-1.1b-q4_0', label: 'TinyLlama-1.1B Q4_0', synth: ['tinyllama-1.1b', 'q4_0'], pp: 512, tg: 128 },
  { id: 'tinyllama-1.1b-q4_k_m', label: 'TinyLlama-1.1B Q4_K_M', synth: ['tinyllama-1.1b', 'q4_k_m'], pp: 512, tg: 128 },
  { id: 'llama-2-7b-q4_0', label: 'Llama-2-7B Q4_0', synth: ['llama-2-7b', 'q4_0'], pp: 512, tg: 128 },
];

/** The cases --models (or $PADDOCK_BENCH_MODELS), a comma-separated list of ids, asks for; all by default. */
function selectedCases(): Case[] {
  const list = flags.models ?? process.env.PADDOCK_BENCH_MODELS;
  if (!list) return allCases;
  const ids = list.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  const unknown = ids.filter((id) => !allCases.some((c) => c.id === id));
  if (unknown.length) throw new Error(`unknown bench model(s) ${unknown.join(', ')}; known: ${allCases.map((c) => c.id).join(', ')}`);
  return allCases.filter((c) => ids.includes(c.id));
}

type Result = { load_ms: number; pp_tps: number; tg_tps: number; peak_rss_mb: number };

function measure(engine: 'paddock' | 'llama.cpp', c: Case, file: string, vocabSize: number, bosId: number): Result | string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(benchDir, 'engine-worker.ts'), JSON.stringify({ engine, model: file, pp: c.pp, tg: c.tg, threads, vocabSize, bosId })], {
    encoding: 'utf8',
    cwd: repo,
    timeout: 30 * 60_000,
  });
  if (r.status !== 0) return (r.stderr || `exit ${r.status}`).trim().split('\n').slice(-1)[0];
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Result;
}

const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');

async function engineBench(): Promise<void> {
  const cases = selectedCases();
  const peerMissing = ensurePeer();
  if (peerMissing) process.stderr.write(`[bench] ${peerMissing}: measuring Paddock alone\n`);
  const addon = loadAddon();
  const rows: string[][] = [];
  for (const c of cases) {
    const file = c.file ?? (await ensureSynthModel(...c.synth!));
    const info = await addon.readModelInfo(file);
    const ours = measure('paddock', c, file, info.vocabSize, info.bosId);
    const peer = peerMissing ? 'peer not installed' : measure('llama.cpp', c, file, info.vocabSize, info.bosId);
    if (typeof ours === 'string') process.stderr.write(`[bench] paddock failed on ${c.label}: ${ours}\n`);
    if (typeof peer === 'string') process.stderr.write(`[bench] llama.cpp failed on ${c.label}: ${peer}\n`);
    const o = typeof ours === 'string' ? undefined : ours;
    const p = typeof peer === 'string' ? undefined : peer;
    rows.push([
      c.label,
      `pp${c.pp}`, fmt(o?.pp_tps ?? NaN), fmt(p?.pp_tps ?? NaN), fmt((o?.pp_tps ?? NaN) / (p?.pp_tps ?? NaN), 2),
      'tg' + c.tg, fmt(o?.tg_tps ?? NaN), fmt(p?.tg_tps ?? NaN), fmt((o?.tg_tps ?? NaN) / (p?.tg_tps ?? NaN), 2),
      `${fmt(o?.load_ms ?? NaN, 0)}/${fmt(p?.load_ms ?? NaN, 0)}`,
      `${fmt(o?.peak_rss_mb ?? NaN, 0)}/${fmt(p?.peak_rss_mb ?? NaN, 0)}`,
    ]);
  }
  const head = ['model', 'pp', 'paddock t/s', 'llama.cpp t/s', 'ratio', 'tg', 'paddock t/s', 'llama.cpp t/s', 'ratio', 'load ms (p/l)', 'peak RSS MB (p/l)'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((x, i) => x.padEnd(widths[i])).join(' | ')} |`;
  process.stdout.write(`engine bench, ${threads} threads, ${os.cpus()[0]?.model ?? 'CPU'}\n`);
  process.stdout.write(`${line(head)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n${rows.map(line).join('\n')}\n`);
}

async function main(): Promise<void> {
  if (which === 'engine' || which === 'all') await engineBench();
  if (which === 'train' || which === 'all') process.stdout.write('train bench: no training engine yet (issue 4), nothing measured\n');
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
