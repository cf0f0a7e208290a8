// `bench` from the command line: the benchmark table on stdout (here for the bundled model alone,
// chosen with --models), clear errors for unknown models and kinds, and a clear refusal where
// there is no source tree (an installed app).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cliEntry } from '../support/server';
import { repoRoot } from '../support/testdata';

const cli = (args: string[], env: NodeJS.ProcessEnv = process.env, entry = cliEntry) =>
  spawnSync(process.execPath, [entry, ...args], { encoding: 'utf8', env, timeout: 5 * 60_000 });

test('bench engine --models stories260k prints the ratio table for that model only', () => {
  const r = cli(['bench', 'engine', '--models', 'stories260k']);
  assert.equal(r.status, 0, r.stderr);
  const rows = r.stdout.split('\n').filter((l) => l.startsWith('| '));
  assert.equal(rows.length, 2, `a header and one model row:\n${r.stdout}`);
  assert.match(rows[0], /\| model .*\| ratio .*\| ratio /);
  assert.match(rows[1], /^\| stories260K F32 +\| pp256 +\| \d+\.\d /);
  assert.doesNotMatch(r.stdout, /TinyLlama|Llama-2/);
});

test('PADDOCK_BENCH_MODELS selects too; unknown ids and kinds are errors naming what is known', () => {
  const bad = cli(['bench', 'engine'], { ...process.env, PADDOCK_BENCH_MODELS: 'stories260k,llama-9-1t' });
  assert.notEqual(bad.status, 0);
  assert.equal(bad.stdout, '');
  assert.match(bad.stderr, /llama-9-1t/);
  assert.match(bad.stderr, /tinyllama-1\.1b-q4_k_m/);
  const kind = cli(['bench', 'everything']);
  assert.equal(kind.status, 2);
  assert.match(kind.stderr, /engine, train, dataset, all/);
});

test('without the source tree (an installed app), bench says it needs a checkout', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-installed-'));
  fs.cpSync(path.join(repoRoot, 'dist/electron'), path.join(dir, 'dist/electron'), { recursive: true });
  const r = cli(['bench', 'engine'], { ...process.env, NODE_PATH: path.join(repoRoot, 'node_modules') }, path.join(dir, 'dist/electron/cli/main.js'));
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /source checkout/);
});
