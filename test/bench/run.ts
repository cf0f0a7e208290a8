// `npm run bench [engine|train|all]`: Paddock beside llama.cpp (node-llama-cpp, CPU prebuilt) on the
// same GGUF files in the same run, each engine in its own process, printed as a ratio table.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadAddon } from '../../electron/engine/addon';

const benchDir = __dirname;
const repo = path.resolve(benchDir, '../..');
const threads = Number(process.env.PADDOCK_BENCH_THREADS ?? Math.min(os.cpus().length, 16));
const which = process.argv[2] ?? 'all';

interface Case {
  label: string;
  file: string;
  pp: number;
  tg: number;
}

function ensurePeer(): boolean {
  if (fs.existsSync(path.join(benchDir, 'node_modules/node-llama-cpp/package.json'))) return true;
  process.stderr.write('[bench] installing the peer (node-llama-cpp, CPU prebuilt only) into test/bench ...\n');
  const r = spawnSync('npm', ['install', '--omit=optional', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: benchDir, stdio: 'inherit' });
  return r.status === 0;
}

/** Model files to measure: the bundled model, plus synthetic real shapes when the synth writer exists. */
function cases(): Case[] {
  const list: Case[] = [{ label: 'stories260K F32', file: path.join(repo, 'resources/models/stories260K.gguf'), pp: 256, tg: 128 }];
  const addon = loadAddon() as unknown as { writeSyntheticGguf?: unknown };
  if (!addon.writeSyntheticGguf) {
    process.stderr.write('[bench] synthetic TinyLlama / Llama-2-7B shapes skipped: this build has no synth writer yet (`paddock synth`)\n');
    return list;
  }
  const dir = path.join(benchDir, 'models');
  fs.mkdirSync(dir, { recursive: true });
  const shapes: [string, string, string][] = [
    ['TinyLlama-1.1B F16', 'tinyllama-1.1b', 'f16'],
    ['TinyLlama-1.1B Q8_0', 'tinyllama-1.1b', 'q8_0'],
    ['TinyLlama-1.1B Q4_0', 'tinyllama-1.1b', 'q4_0'],
    ['TinyLlama-1.1B Q4_K_M', 'tinyllama-1.1b', 'q4_k_m'],
    ['Llama-2-7B Q4_0', 'llama-2-7b', 'q4_0'],
  ];
  for (const [label, shape, type] of shapes) {
    const file = path.join(dir, `${shape}-${type}.gguf`);
    if (!fs.existsSync(file)) {
      process.stderr.write(`[bench] writing ${file} ...\n`);
      execFileSync(process.execPath, [path.join(repo, 'dist/electron/cli/main.js'), 'synth', '--shape', shape, '--type', type, '--out', file, '--seed', '1'], { stdio: ['ignore', 'ignore', 'inherit'] });
    }
    list.push({ label, file, pp: 512, tg: 128 });
  }
  return list;
}

type Result = { load_ms: number; pp_tps: number; tg_tps: number; peak_rss_mb: number };

function measure(engine: 'paddock' | 'llama.cpp', c: Case, vocabSize: number, bosId: number): Result | string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(benchDir, 'engine-worker.ts'), JSON.stringify({ engine, model: c.file, pp: c.pp, tg: c.tg, threads, vocabSize, bosId })], {
    encoding: 'utf8',
    cwd: repo,
    timeout: 30 * 60_000,
  });
  if (r.status !== 0) return (r.stderr || `exit ${r.status}`).trim().split('\n').slice(-1)[0];
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Result;
}

const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');

async function engineBench(): Promise<void> {
  const peerOk = ensurePeer();
  const addon = loadAddon();
  const rows: string[][] = [];
  for (const c of cases()) {
    const info = await addon.readModelInfo(c.file);
    const ours = measure('paddock', c, info.vocabSize, info.bosId);
    const peer = peerOk ? measure('llama.cpp', c, info.vocabSize, info.bosId) : 'peer not installed';
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
