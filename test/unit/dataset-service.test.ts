// The datasets service through the contract, with the shared test data: the acceptance counts
// (Alpaca, OpenAssistant trees and flat messages, FastChat, axolotl), a malformed file's quarantine
// and its fix, validation, stats, export that re-imports to the same rows, pinned versions written
// for the trainer, and the bundled samples imported once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeCore } from './helpers';
import { noTestdata, repoRoot, testdataDir } from '../support/testdata';
import { ensureBundledDatasets } from '../../electron/core/datasets/bundled-samples';
import { PaddockCore } from '../../electron/core/app';
import { FakeEngine } from '../../electron/core/engine/fake-engine';

const data = (p: string) => path.join(testdataDir, 'datasets', p);
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-dsvc-'));

test('acceptance counts: Alpaca 5,000 (2 flagged, empty reply), OASST 100 best from trees and flat alike, FastChat 500, axolotl 1 of 12 turns', { skip: noTestdata }, async () => {
  const { call, eventsOf } = await makeCore();
  const alpaca = await call('datasets.import', { path: data('alpaca/alpaca_5000.json'), importId: 'imp-1' });
  assert.deepEqual([alpaca.rows, alpaca.flagged, alpaca.quarantined], [5000, 2, 0]);
  assert.equal(alpaca.dataset.format, 'alpaca');
  assert.equal(alpaca.dataset.rowCount, 5000);
  assert.equal(alpaca.dataset.flaggedCount, 2);
  const flagged = await call('datasets.rows', { datasetId: alpaca.dataset.id, filter: { problem: 'empty_reply' } });
  assert.equal(flagged.total, 2);
  assert.ok(flagged.rows.every((r) => r.reply === ''));
  const progress = eventsOf('datasets.importProgress').filter((p) => p.importId === 'imp-1');
  assert.ok(progress.length >= 1 && progress.at(-1)!.done, 'a final progress event with done: true');
  assert.equal(progress.at(-1)!.rows, 5000);
  assert.equal(progress.at(-1)!.bytesRead, progress.at(-1)!.totalBytes);

  const tree = await call('datasets.import', { path: data('oasst/en_100_tree.jsonl') });
  const flat = await call('datasets.import', { path: data('oasst/en_100_flat.jsonl') });
  assert.equal(tree.rows, 100);
  assert.equal(flat.rows, 100);
  const treeRows = await call('datasets.rows', { datasetId: tree.dataset.id, limit: 100 });
  const flatRows = await call('datasets.rows', { datasetId: flat.dataset.id, limit: 100 });
  const convo = async (id: string) => (await call('datasets.row', { rowId: id })).messages;
  assert.deepEqual(await convo(treeRows.rows[17].id), await convo(flatRows.rows[17].id), 'the same conversation from either layout');
  // All paths: every path that ends on an assistant reply, a trailing unanswered user turn dropped
  // and the duplicates that leaves kept once (400 root-to-leaf paths end on an assistant message
  // in these trees; 164 more end on an unanswered user message).
  const allTree = await call('datasets.import', { path: data('oasst/en_100_tree.jsonl'), oasst: 'all' });
  const allFlat = await call('datasets.import', { path: data('oasst/en_100_flat.jsonl'), oasst: 'all' });
  assert.equal(allTree.rows, 564);
  assert.equal(allFlat.rows, 564);
  const preview = await call('datasets.preview', { path: data('oasst/en_100_flat.jsonl') });
  assert.deepEqual(preview.oasstCounts, { best: 100, all: 564 });

  const fastchat = await call('datasets.import', { path: data('sharegpt/fastchat/dummy_conversation.json') });
  assert.deepEqual([fastchat.rows, fastchat.quarantined, fastchat.dataset.format], [500, 0, 'sharegpt']);
  const axolotl = await call('datasets.import', { path: data('sharegpt/axolotl/conversation.json') });
  assert.equal(axolotl.rows, 1);
  const only = (await call('datasets.rows', { datasetId: axolotl.dataset.id })).rows[0];
  assert.equal(only.turns, 12);
  assert.equal((await call('datasets.list', {})).length, 7);
});

test('a malformed JSONL file (broken JSON on line 137) imports the good rows, quarantines line 137 with the parser message; fixing it makes a row in its place', async () => {
  const dir = tmp();
  const file = path.join(dir, 'broken.jsonl');
  const lines = Array.from({ length: 300 }, (_, i) =>
    JSON.stringify({ messages: [{ role: 'user', content: `question ${i + 1}` }, { role: 'assistant', content: `answer ${i + 1}` }] }),
  );
  const good137 = lines[136];
  lines[136] = good137.slice(0, -3); // cut the closing of the last message, the list and the record
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  let parserMessage = '';
  try {
    JSON.parse(lines[136]);
  } catch (err) {
    parserMessage = (err as Error).message;
  }

  const { call } = await makeCore();
  const out = await call('datasets.import', { path: file });
  assert.deepEqual([out.rows, out.quarantined, out.flagged], [299, 1, 0]);
  const q = await call('datasets.quarantine', { datasetId: out.dataset.id });
  assert.equal(q.length, 1);
  assert.equal(q[0].line, 137);
  assert.equal(q[0].raw, lines[136], 'the raw text is kept as it was');
  assert.ok(q[0].error.includes(parserMessage) || parserMessage.includes(q[0].error), `parser message kept: ${q[0].error} vs ${parserMessage}`);
  const rows = await call('datasets.rows', { datasetId: out.dataset.id, limit: 300 });
  assert.deepEqual(
    rows.rows.map((r) => r.sourceLine),
    Array.from({ length: 300 }, (_, i) => i + 1).filter((l) => l !== 137),
    'every other line is a row, in order',
  );

  await assert.rejects(call('datasets.fixQuarantined', { id: q[0].id, raw: '{"messages": 3}' }), /Line 137/);
  assert.equal((await call('datasets.quarantine', { datasetId: out.dataset.id }))[0].raw, '{"messages": 3}', 'a failed fix keeps the attempt');
  const fixed = await call('datasets.fixQuarantined', { id: q[0].id, raw: good137 });
  assert.equal(fixed.index, 136);
  assert.equal(fixed.sourceLine, 137);
  assert.equal(fixed.messages[0].content, 'question 137');
  let ds = await call('datasets.get', { datasetId: out.dataset.id });
  assert.deepEqual([ds.rowCount, ds.quarantinedCount, ds.revision], [300, 0, 2]);
  ds = await call('datasets.undo', { datasetId: out.dataset.id });
  assert.deepEqual([ds.rowCount, ds.quarantinedCount], [299, 1], 'undo puts the line back in the quarantine');
  ds = await call('datasets.redo', { datasetId: out.dataset.id });
  assert.deepEqual([ds.rowCount, ds.quarantinedCount], [300, 0]);

  await assert.rejects(call('datasets.import', { path: path.join(dir, 'missing.jsonl') }), /missing\.jsonl/);
  assert.equal((await call('datasets.list', {})).length, 1, 'a failed import leaves no dataset');
});

test('validate stores problems and the report; stats; export re-imports to the same rows; a pinned version is written for the trainer', { skip: noTestdata }, async () => {
  const dir = tmp();
  const { core, call } = await makeCore();
  const imp = await call('datasets.import', { path: data('alpaca/alpaca_5000.json') });
  const id = imp.dataset.id;
  assert.equal(await call('datasets.lastValidation', { datasetId: id }), null);
  const report = await call('datasets.validate', { datasetId: id });
  assert.equal(report.counts.empty_reply, 2);
  assert.equal(report.revision, 1);
  assert.ok(report.flaggedRows >= 2);
  assert.deepEqual(await call('datasets.lastValidation', { datasetId: id }), report);
  assert.equal((await call('datasets.get', { datasetId: id })).flaggedCount, report.flaggedRows);
  const stats = await call('datasets.stats', { datasetId: id });
  assert.equal(stats.rows, 5000);

  await call('datasets.autoSplit', { datasetId: id, validation: 0.1, seed: 3 });
  const exported = await call('datasets.export', { datasetId: id, format: 'openai', path: path.join(dir, 'all.jsonl') });
  assert.equal(exported.rows, 5000);
  const val = await call('datasets.export', { datasetId: id, format: 'openai', split: 'validation', path: path.join(dir, 'val.jsonl') });
  assert.equal(val.rows, 500);
  const again = await call('datasets.import', { path: exported.path });
  assert.equal(again.rows, 5000);
  const original = await call('datasets.rows', { datasetId: id, offset: 4000, limit: 50 });
  const reread = await call('datasets.rows', { datasetId: again.dataset.id, offset: 4000, limit: 50 });
  for (let i = 0; i < 50; i++) {
    assert.deepEqual((await call('datasets.row', { rowId: reread.rows[i].id })).messages, (await call('datasets.row', { rowId: original.rows[i].id })).messages);
  }

  // Edit after pinning: the pinned version still reads the old text.
  const pinned = (await call('datasets.get', { datasetId: id })).versionId;
  const row = original.rows[0];
  await call('datasets.updateRow', { rowId: row.id, messages: [{ role: 'user', content: 'changed', train: true }, { role: 'assistant', content: 'reply', train: false }] });
  const file = path.join(dir, 'train.jsonl');
  const written = await core.datasets.materialize(pinned, 'validation', file);
  assert.equal(written.rows, 500);
  const head = (await call('datasets.get', { datasetId: id })).versionId;
  const all = await core.datasets.materialize(head, 'all', path.join(dir, 'head.jsonl'));
  assert.equal(all.rows, 5000);
  const line = fs.readFileSync(path.join(dir, 'head.jsonl'), 'utf8').split('\n')[4000];
  assert.deepEqual(JSON.parse(line), { messages: [{ role: 'user', content: 'changed' }, { role: 'assistant', content: 'reply', weight: 0 }] });
  assert.notEqual(core.datasets.readVersion(pinned)[4000].messages[0].content, 'changed');
});

test('bundled samples (OASST trees, FastChat) are imported once, across restarts', async () => {
  const samples = path.join(repoRoot, 'resources/datasets');
  const dir = tmp();
  const open = () => new PaddockCore({ dataDir: dir, engine: new FakeEngine(), mode: 'browser', version: 'test' });
  let core = open();
  const first = await ensureBundledDatasets(core.datasets, samples);
  assert.equal(first.length, 2);
  assert.deepEqual(
    core.datasets.list().map((d) => [d.name, d.rowCount]).sort(),
    [
      ['FastChat conversations (sample)', 500],
      ['OpenAssistant trees (sample)', 100],
    ],
  );
  core.datasets.remove(first[1]);
  await core.close();
  core = open();
  assert.deepEqual(await ensureBundledDatasets(core.datasets, samples), [], 'nothing imported twice, a deleted sample stays deleted');
  assert.equal(core.datasets.list().length, 1);
  await core.close();
});
