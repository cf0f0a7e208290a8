// The CLI contract of `dataset import F [--format ...] [--oasst best|all]`: it imports into
// $PADDOCK_HOME's paddock.db; progress on stderr; the last stdout line is JSON
// {"dataset_id","rows","quarantined","flagged"}; usage errors exit 2, unreadable files exit 1 naming the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cliEntry } from '../support/server';
import { noTestdata, testdataDir } from '../support/testdata';
import { openDatabase } from '../../electron/core/db/connection';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-dcli-'));
const data = (p: string) => path.join(testdataDir, 'datasets', p);
const cli = (args: string[]) => spawnSync(process.execPath, [cliEntry, 'dataset', ...args], { encoding: 'utf8', env: { ...process.env, PADDOCK_HOME: home } });

interface ImportLine {
  dataset_id: string;
  rows: number;
  quarantined: number;
  flagged: number;
}

function importFile(args: string[]): ImportLine {
  const r = cli(['import', ...args]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  const last = JSON.parse(lines.at(-1)!) as ImportLine;
  assert.deepEqual(Object.keys(last), ['dataset_id', 'rows', 'quarantined', 'flagged']);
  assert.match(r.stderr, /dataset import: /, 'progress goes to stderr');
  return last;
}

test('dataset import: the acceptance counts from the shared test data, stored in $PADDOCK_HOME/paddock.db', { skip: noTestdata }, () => {
  const alpaca = importFile([data('alpaca/alpaca_5000.json')]);
  assert.deepEqual([alpaca.rows, alpaca.quarantined, alpaca.flagged], [5000, 0, 2]);
  assert.equal(importFile([data('oasst/en_100_tree.jsonl')]).rows, 100);
  assert.equal(importFile([data('oasst/en_100_flat.jsonl'), '--format', 'oasst', '--oasst', 'best']).rows, 100);
  const all = importFile([data('oasst/en_100_tree.jsonl'), '--oasst', 'all']);
  assert.equal(all.rows, 564, 'every path ending on an assistant reply (trailing unanswered user turns dropped, duplicates once)');
  assert.equal(importFile([data('oasst/en_100_flat.jsonl'), '--oasst', 'all']).rows, 564);
  assert.equal(importFile([data('sharegpt/fastchat/dummy_conversation.json')]).rows, 500);
  const axolotl = importFile([data('sharegpt/axolotl/conversation.json'), '--format', 'sharegpt']);
  assert.equal(axolotl.rows, 1);

  const db = openDatabase(path.join(home, 'paddock.db'));
  try {
    const row = db.prepare('SELECT turns FROM dataset_rows WHERE dataset_id = ?').get(axolotl.dataset_id) as { turns: number };
    assert.equal(row.turns, 12);
    const n = db.prepare("SELECT COUNT(*) AS n FROM datasets WHERE state = 'ready'").get() as { n: number };
    assert.equal(n.n, 7);
  } finally {
    db.close();
  }
});

test('dataset import: a malformed line is quarantined, not fatal; bad arguments and missing files fail clearly', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-dcli-data-'));
  const file = path.join(dir, 'broken.jsonl');
  const lines = Array.from({ length: 200 }, (_, i) => JSON.stringify({ prompt: `p${i}`, completion: `c${i}` }));
  lines[136] = '{"prompt": "p136", "completion": ';
  fs.writeFileSync(file, lines.join('\n'));
  const out = importFile([file]);
  assert.deepEqual([out.rows, out.quarantined, out.flagged], [199, 1, 0]);

  const usage = cli(['import', file, '--format', 'yaml']);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /--format must be one of auto, alpaca/);
  assert.equal(usage.stdout, '');
  assert.equal(cli(['export', file]).status, 2);
  const missing = cli(['import', path.join(dir, 'nope.jsonl')]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /nope\.jsonl/);
  assert.equal(missing.stdout, '');
});
