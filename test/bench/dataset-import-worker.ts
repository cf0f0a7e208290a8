// One side of the dataset import bench, in its own process so its peak RSS is its own:
//   paddock: the streaming import into a fresh SQLite file (what `dataset import` and the app run);
//   peer:    a plain pass that JSON.parses every line of the same file (the floor of any JSONL reader);
//   generate: writes the OpenAI-chat JSONL both read (deterministic, realistic lengths).
// Prints one JSON line {rows, seconds, rows_per_s, peak_rss_mb}.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { openDatabase } from '../../electron/core/db/connection';
import { mulberry32 } from '../../electron/core/datasets/auto-split';
import { datasetStore } from '../../electron/core/datasets/dataset-store';
import { importDataset } from '../../electron/core/datasets/import-job';

export interface DatasetWorkerArgs {
  side: 'paddock' | 'peer' | 'generate';
  file: string;
  /** generate: how many rows. */
  rows?: number;
}

export interface DatasetWorkerResult {
  rows: number;
  seconds: number;
  rows_per_s: number;
  peak_rss_mb: number;
}

async function paddock(file: string): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-bench-db-'));
  const db = openDatabase(path.join(dir, 'paddock.db'));
  try {
    const out = await importDataset(datasetStore(db), { path: file, format: 'auto', oasst: 'best' });
    if (out.quarantined) throw new Error(`${out.quarantined} rows quarantined: the generated file should be clean`);
    return out.rows;
  } finally {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function peer(file: string): Promise<number> {
  let rows = 0;
  const lines = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const rec = JSON.parse(line) as { messages: unknown[] };
    if (Array.isArray(rec.messages)) rows++;
  }
  return rows;
}

const WORDS = (
  'the of and to in is that for it as with was on be by this are from at or an which one have not but all they ' +
  'model data token train reply answer question example because first would could should number list python function ' +
  'value return string error file write read people time year make good new way work use also well how what when'
).split(' ');

/**
 * Chat rows shaped like SFT data: a system prompt in a third of them, one to four user/assistant
 * exchanges, questions of 8-80 words and replies of 20-300 words (about 2.7 KB a row on average).
 */
async function generate(file: string, count: number): Promise<number> {
  const rand = mulberry32(20240601);
  const words = (lo: number, hi: number) => {
    const n = lo + Math.floor(rand() * (hi - lo));
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(WORDS[Math.floor(rand() * WORDS.length)]);
    return `${out.join(' ')}.`;
  };
  const out = fs.createWriteStream(file);
  for (let i = 0; i < count; i++) {
    const messages: { role: string; content: string }[] = [];
    if (rand() < 1 / 3) messages.push({ role: 'system', content: words(5, 30) });
    const turns = 1 + Math.floor(rand() * 4);
    for (let t = 0; t < turns; t++) {
      messages.push({ role: 'user', content: words(8, 80) });
      messages.push({ role: 'assistant', content: words(20, 300) });
    }
    if (!out.write(`${JSON.stringify({ messages })}\n`)) await new Promise<void>((res) => out.once('drain', () => res()));
  }
  await new Promise<void>((res, rej) => out.end((err?: Error | null) => (err ? rej(err) : res())));
  return count;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]) as DatasetWorkerArgs;
  const started = performance.now();
  const rows =
    args.side === 'generate' ? await generate(args.file, args.rows ?? 100_000) : args.side === 'paddock' ? await paddock(args.file) : await peer(args.file);
  const seconds = (performance.now() - started) / 1000;
  // maxRSS is in kilobytes.
  const result: DatasetWorkerResult = { rows, seconds, rows_per_s: rows / seconds, peak_rss_mb: process.resourceUsage().maxRSS / 1024 };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
