// The CLI contract: `generate` prints only the generated text; greedy stories260K equals llama2.c's run.c.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cliEntry } from '../support/server';
import { bundledGguf, noTestdata, stories } from '../support/testdata';

const cli = (args: string[]) => spawnSync(process.execPath, [cliEntry, ...args], { encoding: 'utf8' });

test('greedy 200 tokens from BOS reproduce llama2.c byte for byte: legacy .bin, v1 .bin, and the bundled GGUF Paddock wrote', { skip: noTestdata }, () => {
  const expected = fs.readFileSync(stories.expected, 'utf8');
  for (const args of [
    ['--model', stories.bin, '--tokenizer', stories.tok],
    ['--model', stories.v1, '--tokenizer', stories.tok],
    ['--model', bundledGguf],
  ]) {
    const r = cli(['generate', ...args, '--max-tokens', '200', '--temperature', '0']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, expected, `stdout of generate ${args.join(' ')}`);
  }
});

test('the bundled GGUF is exactly what Paddock\'s GGUF writer makes of the llama2.c original', { skip: noTestdata }, () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-bundle-')), 'stories260K.gguf');
  const printed = execFileSync(process.execPath, [cliEntry, 'bundle-model', '--out', out], { encoding: 'utf8' });
  assert.equal(printed.trim(), out);
  assert.ok(fs.readFileSync(out).equals(fs.readFileSync(bundledGguf)), 'resources/models/stories260K.gguf is stale: run `npm run -s cli -- bundle-model`');
});

test('sampling is reproducible for a seed and differs across seeds', () => {
  const run = (seed: string) => cli(['generate', '--model', bundledGguf, '--max-tokens', '40', '--temperature', '1', '--seed', seed]);
  const a = run('7');
  const b = run('7');
  const c = run('8');
  assert.equal(a.status, 0, a.stderr);
  assert.equal(a.stdout, b.stdout);
  assert.notEqual(a.stdout, c.stdout);
  assert.ok(a.stdout.length > 20);
});

test('a prompt is continued, and bad input fails on stderr with a non-zero exit and an empty stdout', () => {
  const ok = cli(['generate', '--model', bundledGguf, '--prompt', 'Once upon a time', '--max-tokens', '20', '--temperature', '0']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.ok(ok.stdout.length > 0 && !ok.stdout.startsWith('Once upon a time'), 'stdout has the generated text only');
  const missing = cli(['generate', '--model', '/nonexistent/model.gguf']);
  assert.notEqual(missing.status, 0);
  assert.equal(missing.stdout, '');
  assert.match(missing.stderr, /\/nonexistent\/model\.gguf/);
  const usage = cli(['generate', '--max-tokens', 'lots']);
  assert.equal(usage.status, 2);
});
