// The datasets store on a real SQLite file: rows edited as revisions (edit, undo, redo, history,
// bulk tag/split/delete, auto split), old versions rebuilt from snapshots, a dataset surviving a
// reopen, a failed import leaving nothing behind, and paging deep into 50K rows staying fast.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeCore } from './helpers';
import { openDatabase } from '../../electron/core/db/connection';
import { datasetStore } from '../../electron/core/datasets/dataset-store';
import { importDataset } from '../../electron/core/datasets/import-job';
import type { DatasetStream } from '../../electron/core/datasets/dataset-stream';
import type { PlainRow } from '../../electron/core/datasets/dataset-service';

/** The contract over a core on a real SQLite file in `dir` (or ':memory:'). */
const openCore = (dir: string) => makeCore({}, dir);

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-dstore-'));

const chat = (q: string, a: string): PlainRow => ({
  kind: 'chat',
  messages: [
    { role: 'user', content: q, train: true },
    { role: 'assistant', content: a, train: true },
  ],
  split: null,
});

test('edit, undo, redo, row history and an older version rebuilt from snapshots', async () => {
  const dir = tempDir();
  const { core, call, events } = openCore(dir);
  const id = core.datasets.createFromRows('five', 'openai', [chat('q0', 'a0'), chat('q1', 'a1'), chat('q2', ''), chat('q3', 'a3'), chat('q4', 'a4')]);
  let ds = await call('datasets.get', { datasetId: id });
  assert.equal(ds.rowCount, 5);
  assert.equal(ds.revision, 1);
  assert.equal(ds.versionId, `${id}@1`);
  assert.equal(ds.canUndo, false, 'the creation itself is not undone');

  const page = await call('datasets.rows', { datasetId: id });
  assert.deepEqual(page.rows.map((r) => r.preview), ['q0', 'q1', 'q2', 'q3', 'q4']);
  assert.deepEqual(page.rows.map((r) => r.index), [0, 1, 2, 3, 4]);
  const row1 = page.rows[1];

  const edited = await call('datasets.updateRow', {
    rowId: row1.id,
    messages: [
      { role: 'system', content: 'Be brief.', train: true },
      { role: 'user', content: 'q1 edited', train: true },
      { role: 'assistant', content: 'a1 edited', train: false },
    ],
  });
  assert.equal(edited.messages[2].train, false);
  assert.equal(edited.index, 1);
  ds = await call('datasets.get', { datasetId: id });
  assert.equal(ds.revision, 2);
  assert.equal(ds.canUndo, true);
  assert.deepEqual(events.filter((e) => e.event === 'datasets.changed').at(-1)?.payload, { datasetId: id, revision: 2 });

  await call('datasets.updateRow', { rowId: row1.id, tags: ['checked'], split: 'validation' });
  ds = await call('datasets.undo', { datasetId: id });
  assert.equal(ds.revision, 2);
  ds = await call('datasets.undo', { datasetId: id });
  assert.equal(ds.revision, 1);
  assert.equal(ds.canRedo, true);
  assert.equal((await call('datasets.row', { rowId: row1.id })).messages[0].content, 'q1');
  ds = await call('datasets.redo', { datasetId: id });
  assert.equal(ds.revision, 2);
  let r1 = await call('datasets.row', { rowId: row1.id });
  assert.equal(r1.messages[1].content, 'q1 edited');
  assert.deepEqual(r1.tags, []);
  ds = await call('datasets.redo', { datasetId: id });
  r1 = await call('datasets.row', { rowId: row1.id });
  assert.deepEqual(r1.tags, ['checked']);
  assert.equal(r1.split, 'validation');
  await assert.rejects(call('datasets.redo', { datasetId: id }), /Nothing to redo/);

  const history = await call('datasets.rowHistory', { rowId: row1.id });
  assert.deepEqual(history.map((h) => h.revision), [1, 2, 3]);
  assert.equal(history[0].before, null, 'the import created it');
  assert.equal(history[0].after.messages[0].content, 'q1');
  assert.equal(history[1].before?.messages[0].content, 'q1');
  assert.equal(history[1].after.messages[1].content, 'q1 edited');
  assert.equal(history[2].before?.split, null);
  assert.equal(history[2].after.split, 'validation');
  assert.equal(history[2].after.messages[1].content, 'q1 edited', 'an untouched message list is carried along');

  // Old versions: revision 1 is the rows as created; revision 2 has the edit but not the tag.
  const v1 = core.datasets.readVersion(`${id}@1`);
  assert.deepEqual(v1.map((r) => r.messages[0].content), ['q0', 'q1', 'q2', 'q3', 'q4']);
  const v2 = core.datasets.readVersion(`${id}@2`);
  assert.equal(v2[1].messages[1].content, 'q1 edited');
  assert.deepEqual(v2[1].tags, []);
  assert.equal(v2[1].split, null);
  const v3 = core.datasets.readVersion(`${id}@3`);
  assert.equal(v3[1].split, 'validation');

  // Undo, then an old head read forward from the redo stack; a new edit drops the redo stack.
  await call('datasets.undo', { datasetId: id });
  assert.equal(core.datasets.readVersion(`${id}@3`)[1].split, 'validation');
  await call('datasets.updateRow', { rowId: page.rows[0].id, split: 'test' });
  ds = await call('datasets.get', { datasetId: id });
  assert.equal(ds.revision, 3);
  assert.equal(ds.canRedo, false);
  assert.equal(core.datasets.readVersion(`${id}@3`)[0].split, 'test');
  assert.equal(core.datasets.readVersion(`${id}@3`)[1].split, null);
  const revs = await call('datasets.revisions', { datasetId: id });
  assert.deepEqual(revs.map((r) => [r.revision, r.undone]), [[1, false], [2, false], [3, false]]);

  // The empty reply is flagged from the start and clears when fixed.
  const row2 = page.rows[2];
  assert.ok(row2.problems.includes('empty_reply'), `row 2 problems: ${row2.problems}`);
  const fixed = await call('datasets.updateRow', { rowId: row2.id, messages: [{ role: 'user', content: 'q2', train: true }, { role: 'assistant', content: 'a2', train: true }] });
  assert.deepEqual(fixed.problems, []);
  await core.close();
});

test('bulk tag / split / delete (by ids and by filter), addRow, auto split 90/10, each one revision', async () => {
  const { core, call } = openCore(':memory:');
  const rows = Array.from({ length: 1000 }, (_, i) => chat(`question ${i}${i % 10 === 0 ? ' about cats' : ''}`, `answer ${i}`));
  const id = core.datasets.createFromRows('thousand', 'openai', rows);
  const cats = await call('datasets.rows', { datasetId: id, filter: { text: 'ABOUT CATS' }, limit: 500 });
  assert.equal(cats.total, 100);
  assert.deepEqual(cats.rows.slice(0, 3).map((r) => r.index), [0, 10, 20], 'indices are positions in the whole dataset');

  let bulk = await call('datasets.bulk', { datasetId: id, filter: { text: 'about cats' }, action: { kind: 'tag', tag: 'cats' } });
  assert.equal(bulk.affected, 100);
  assert.equal(bulk.dataset.revision, 2);
  assert.equal((await call('datasets.rows', { datasetId: id, filter: { tag: 'cats' } })).total, 100);

  const firstTwo = (await call('datasets.rows', { datasetId: id, limit: 2 })).rows.map((r) => r.id);
  bulk = await call('datasets.bulk', { datasetId: id, rowIds: firstTwo, action: { kind: 'split', split: 'test' } });
  assert.equal(bulk.affected, 2);
  assert.equal(bulk.dataset.splitCounts.test, 2);

  bulk = await call('datasets.bulk', { datasetId: id, filter: { tag: 'cats' }, action: { kind: 'delete' } });
  assert.equal(bulk.affected, 100);
  assert.equal(bulk.dataset.rowCount, 900);
  assert.equal(bulk.dataset.revision, 4);
  const undone = await call('datasets.undo', { datasetId: id });
  assert.equal(undone.rowCount, 1000);
  await call('datasets.redo', { datasetId: id });

  const added = await call('datasets.addRow', { datasetId: id, messages: [{ role: 'user', content: 'new one', train: true }], tags: ['mine'] });
  assert.equal(added.index, 900);
  assert.deepEqual(added.problems, ['no_assistant_turn']);
  assert.equal((await call('datasets.get', { datasetId: id })).rowCount, 901);
  await call('datasets.undo', { datasetId: id });
  assert.equal((await call('datasets.get', { datasetId: id })).rowCount, 900);
  await call('datasets.redo', { datasetId: id });

  const split = await call('datasets.autoSplit', { datasetId: id, validation: 0.1, seed: 7 });
  assert.deepEqual(split.splitCounts, { train: 811, validation: 90, test: 0, none: 0 }, 'exactly round(901 * 0.1) validation rows');
  assert.equal(split.revision, 6);
  const again = core.datasets.readVersion(`${id}@6`).filter((r) => r.split === 'validation').length;
  assert.equal(again, 90);
  const three = await call('datasets.autoSplit', { datasetId: id, validation: 0.1, test: 0.05, seed: 1 });
  assert.deepEqual(three.splitCounts, { train: 766, validation: 90, test: 45, none: 0 });
  // Seeded: the same seed over the same rows gives the same split.
  await call('datasets.undo', { datasetId: id });
  const a = (await call('datasets.rows', { datasetId: id, filter: { split: 'validation' }, limit: 2000 })).rows.map((r) => r.id);
  await call('datasets.undo', { datasetId: id });
  await call('datasets.autoSplit', { datasetId: id, validation: 0.1, seed: 7 });
  const b = (await call('datasets.rows', { datasetId: id, filter: { split: 'validation' }, limit: 2000 })).rows.map((r) => r.id);
  assert.deepEqual(a, b);
  await assert.rejects(call('datasets.bulk', { datasetId: id, action: { kind: 'delete' } }), /rowIds or a filter/);
  await core.close();
});

test('text search looks at message contents only (quotes, newlines, LIKE wildcards); deleted rows leave the table but not old versions or history', async () => {
  const { core, call } = openCore(':memory:');
  const id = core.datasets.createFromRows('search', 'openai', [
    chat('She said "hi"\nthen left', 'ok'),
    chat('100% sure_thing', 'fine'),
    chat('plain', 'the user asked'),
    chat('nothing here', 'nope'),
  ]);
  const texts = async (text: string) => (await call('datasets.rows', { datasetId: id, filter: { text } })).rows.map((r) => r.preview);
  assert.deepEqual(await texts('said "hi"\nthen'), ['She said "hi"\nthen left']);
  assert.deepEqual(await texts('0% s'), ['100% sure_thing']);
  assert.deepEqual(await texts('%'), ['100% sure_thing'], 'a % is a character, not a wildcard');
  assert.deepEqual(await texts('user'), ['plain'], 'roles are not searched');
  assert.deepEqual(await texts('role'), []);

  const rows = (await call('datasets.rows', { datasetId: id })).rows;
  const del = await call('datasets.bulk', { datasetId: id, rowIds: [rows[1].id, rows[3].id], action: { kind: 'delete' } });
  assert.equal(del.dataset.rowCount, 2);
  await assert.rejects(call('datasets.row', { rowId: rows[1].id }), /No dataset row/);
  const history = await call('datasets.rowHistory', { rowId: rows[1].id });
  assert.deepEqual(history.map((h) => [h.revision, h.before?.deleted ?? null, h.after.deleted]), [[1, null, false], [2, false, true]]);
  assert.deepEqual(core.datasets.readVersion(`${id}@1`).map((r) => r.messages[0].content), rows.map((r) => r.preview));
  assert.deepEqual(core.datasets.readVersion(`${id}@2`).map((r) => r.messages[0].content), [rows[0].preview, rows[2].preview]);
  assert.throws(() => core.datasets.readVersion(`${id}@9`), /no revision 9/);
  assert.throws(() => core.datasets.readVersion(`${id}@two`), /not a dataset version id/);
  // A bare dataset id reads its head; an unknown one is named.
  assert.deepEqual(core.datasets.readVersion(id).map((r) => r.messages[0].content), [rows[0].preview, rows[2].preview]);
  assert.throws(() => core.datasets.readVersion('not-a-dataset'), /No dataset with id not-a-dataset/);
  await core.close();
});

test('a dataset survives reopening the database file, revisions and undo included', async () => {
  const dir = tempDir();
  let { core, call } = openCore(dir);
  const id = core.datasets.createFromRows('persisted', 'alpaca', [chat('one', 'uno'), chat('two', 'dos')]);
  const rowId = (await call('datasets.rows', { datasetId: id })).rows[1].id;
  await call('datasets.updateRow', { rowId, tags: ['kept'] });
  await core.close();

  ({ core, call } = openCore(dir));
  const list = await call('datasets.list', {});
  assert.deepEqual(list.map((d) => [d.name, d.rowCount, d.revision, d.canUndo]), [['persisted', 2, 2, true]]);
  assert.deepEqual((await call('datasets.row', { rowId })).tags, ['kept']);
  await call('datasets.undo', { datasetId: id });
  assert.deepEqual((await call('datasets.row', { rowId })).tags, []);
  await core.close();
});

test('an import that fails mid-file leaves no dataset and names the file; a half import left by a crash is removed on open', async () => {
  const dir = tempDir();
  const db = openDatabase(path.join(dir, 'paddock.db'));
  const store = datasetStore(db);
  const file = path.join(dir, 'broken.jsonl');
  const failing = async (): Promise<DatasetStream> => ({
    format: 'openai',
    totalBytes: 100,
    async *batches() {
      yield { rows: [{ kind: 'chat', messages: [{ role: 'user', content: 'x', train: true }], line: 1 }], quarantined: [], bytesRead: 50 };
      throw new Error('read error: the disk went away');
    },
  });
  await assert.rejects(importDataset(store, { path: file, format: 'auto', oasst: 'best' }, undefined, failing), (err: Error) => {
    assert.match(err.message, /broken\.jsonl: read error: the disk went away/);
    return true;
  });
  assert.equal((db.prepare('SELECT COUNT(*) AS n FROM datasets').get() as { n: number }).n, 0);
  assert.equal((db.prepare('SELECT COUNT(*) AS n FROM dataset_rows').get() as { n: number }).n, 0);

  // A crash mid-import: the dataset is still marked importing when the app opens next.
  store.datasets.create({ name: 'half', sourcePath: file, format: 'openai', state: 'importing' });
  db.close();
  const { core, call } = openCore(dir);
  assert.deepEqual(await call('datasets.list', {}), []);
  assert.equal((core.db.prepare('SELECT COUNT(*) AS n FROM datasets').get() as { n: number }).n, 0);
  await core.close();
});

test('paging stays fast deep into 50K rows (offset 40,000), filtered and unfiltered', async () => {
  const { core, call } = openCore(tempDir());
  const words = 'the a model data train token reply question answer about with from'.split(' ');
  const rows = Array.from({ length: 50_000 }, (_, i) => {
    const text = Array.from({ length: 40 + (i % 60) }, (_, k) => words[(i * 7 + k * 3) % words.length]).join(' ');
    return chat(`row ${i}: ${text}`, `reply ${i}: ${text}`);
  });
  let t = performance.now();
  const id = core.datasets.createFromRows('fifty thousand', 'openai', rows);
  const createMs = performance.now() - t;
  await call('datasets.autoSplit', { datasetId: id, validation: 0.1, seed: 0 });

  // Best of three after a warm-up: the other jobs on a loaded machine add noise, not the query.
  const time = async (f: () => Promise<unknown>) => {
    await f();
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      await f();
      best = Math.min(best, performance.now() - t0);
    }
    return best;
  };
  const plain = await time(() => call('datasets.rows', { datasetId: id, offset: 40_000, limit: 200 }));
  const page = await call('datasets.rows', { datasetId: id, offset: 40_000, limit: 200 });
  assert.equal(page.total, 50_000);
  assert.equal(page.rows[0].index, 40_000);
  assert.match(page.rows[0].preview, /^row 40000: /);
  const bySplit = await time(() => call('datasets.rows', { datasetId: id, filter: { split: 'train' }, offset: 40_000, limit: 200 }));
  const byTurns = await time(() => call('datasets.rows', { datasetId: id, filter: { minTurns: 2, problem: 'any' }, offset: 0, limit: 200 }));
  t = performance.now();
  const row = await call('datasets.row', { rowId: page.rows[0].id });
  const oneRow = performance.now() - t;
  assert.equal(row.index, 40_000);
  t = performance.now();
  await call('datasets.updateRow', { rowId: row.id, messages: [{ role: 'user', content: 'edited 40000', train: true }, { role: 'assistant', content: 'ok', train: true }] });
  const editMs = performance.now() - t;
  console.log(
    `# 50K rows: created in ${createMs.toFixed(0)} ms; page at 40,000: ${plain.toFixed(1)} ms plain, ${bySplit.toFixed(1)} ms split filter, ` +
      `${byTurns.toFixed(1)} ms turns+problem filter; one row ${oneRow.toFixed(1)} ms; edit ${editMs.toFixed(1)} ms`,
  );
  // Generous bounds for a loaded 2-core CI machine; the figures above are what it measured.
  assert.ok(plain < 250, `unfiltered page at 40,000 took ${plain.toFixed(0)} ms`);
  assert.ok(bySplit < 500, `split-filtered page at 40,000 took ${bySplit.toFixed(0)} ms`);
  assert.ok(editMs < 500, `editing row 40,000 took ${editMs.toFixed(0)} ms`);
  await core.close();
});
