// Export: OpenAI chat JSONL, Alpaca and ShareGPT files that re-import (through the streaming
// import) to the same rows — messages, roles and train flags; Alpaca's single exchange (the rest
// skipped and counted by reason); and the atomic write (a failed export leaves the old file whole).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exportDataset, writeDatasetExport, type ExportRow } from '../../electron/core/datasets/dataset-export';
import { openDatasetStream, type StreamRow } from '../../electron/core/datasets/dataset-stream';
import { noTestdata, testdataDir } from '../support/testdata';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-export-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

async function reimport(file: string): Promise<{ format: string; rows: StreamRow[]; quarantined: number }> {
  const stream = await openDatasetStream(file, { format: 'auto', oasst: 'best' });
  const rows: StreamRow[] = [];
  let quarantined = 0;
  for await (const b of stream.batches()) {
    rows.push(...b.rows);
    quarantined += b.quarantined.length;
  }
  return { format: stream.format, rows, quarantined };
}

const m = (role: 'system' | 'user' | 'assistant', content: string, train = true) => ({ role, content, train });
const rows: ExportRow[] = [
  { kind: 'chat', messages: [m('system', 'Answer in French.'), m('user', 'Hello'), m('assistant', 'Bonjour', false), m('user', 'Thanks'), m('assistant', 'De rien')] },
  { kind: 'chat', messages: [m('user', 'Line one\nline "two"\n\nand a blank'), m('assistant', 'Ünïcödé ✓ and \\ backslash')] },
  { kind: 'chat', messages: [m('system', 'Be brief.'), m('user', 'Why?'), m('assistant', 'Because.')] },
  { kind: 'completion', messages: [m('user', 'The sky is'), m('assistant', ' blue.')] },
  { kind: 'chat', messages: [m('user', 'q'), m('assistant', '')] }, // an empty reply (flagged) is exported as it is
];

test('OpenAI and ShareGPT JSONL re-import to the same rows: messages, roles, train flags (weight 0)', async () => {
  for (const format of ['openai', 'sharegpt'] as const) {
    const file = path.join(tmp, `out.${format}.jsonl`);
    assert.equal(await writeDatasetExport(rows, format, file), rows.length);
    const back = await reimport(file);
    assert.equal(back.format, format);
    assert.equal(back.quarantined, 0);
    assert.deepEqual(back.rows.map((r) => r.messages), rows.map((r) => r.messages));
    assert.deepEqual(back.rows.map((r) => r.line), [1, 2, 3, 4, 5], 'one row per line');
  }
  const first = JSON.parse(fs.readFileSync(path.join(tmp, 'out.openai.jsonl'), 'utf8').split('\n')[0]);
  assert.deepEqual(first.messages[2], { role: 'assistant', content: 'Bonjour', weight: 0 }, "OpenAI's own field for an untrained reply");
  const share = JSON.parse(fs.readFileSync(path.join(tmp, 'out.sharegpt.jsonl'), 'utf8').split('\n')[0]);
  assert.deepEqual(share.conversations.map((t: { from: string }) => t.from), ['system', 'human', 'gpt', 'human', 'gpt']);
});

test('Alpaca: single exchanges (with their system) re-import the same; multi-turn, untrained and reply-less rows are skipped and counted', async () => {
  const file = path.join(tmp, 'out.alpaca.jsonl');
  const extra: ExportRow[] = [...rows, { kind: 'text', messages: [m('assistant', 'Just a story.')] }];
  const result = await exportDataset(extra, 'alpaca', file);
  assert.deepEqual(result, { rows: 4, skipped: { 'more than one exchange (multi-turn)': 1, 'not one user turn and one reply': 1 } });
  const back = await reimport(file);
  assert.equal(back.format, 'alpaca');
  assert.deepEqual(back.rows.map((r) => r.messages), [rows[1], rows[2], rows[3], rows[4]].map((r) => r.messages));
  assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8').split('\n')[1]), { instruction: 'Why?', input: '', output: 'Because.', system: 'Be brief.' });
  const untrained = await exportDataset([{ kind: 'chat', messages: [m('user', 'q'), m('assistant', 'a', false)] }], 'alpaca', file);
  assert.deepEqual(untrained, { rows: 0, skipped: { 'a reply with no loss (train=false)': 1 } });
  assert.equal(fs.readFileSync(file, 'utf8'), '', 'an export with no rows is an empty file');
});

test('the shared Alpaca and FastChat files survive an export round trip in every format they fit', { skip: noTestdata }, async () => {
  const alpaca = await reimport(path.join(testdataDir, 'datasets/alpaca/alpaca_5000.json'));
  const fastchat = await reimport(path.join(testdataDir, 'datasets/sharegpt/fastchat/dummy_conversation.json'));
  for (const format of ['openai', 'sharegpt', 'alpaca'] as const) {
    const file = path.join(tmp, `alpaca.${format}.jsonl`);
    assert.equal(await writeDatasetExport(alpaca.rows, format, file), 5000);
    assert.deepEqual((await reimport(file)).rows.map((r) => r.messages), alpaca.rows.map((r) => r.messages));
  }
  for (const format of ['openai', 'sharegpt'] as const) {
    const file = path.join(tmp, `fastchat.${format}.jsonl`);
    assert.equal(await writeDatasetExport(fastchat.rows, format, file), 500);
    assert.deepEqual((await reimport(file)).rows.map((r) => r.messages), fastchat.rows.map((r) => r.messages));
  }
  const skipped = await exportDataset(fastchat.rows, 'alpaca', path.join(tmp, 'fastchat.alpaca.jsonl'));
  assert.deepEqual(skipped, { rows: 167, skipped: { 'more than one exchange (multi-turn)': 333 } }, 'the 2-turn conversations only');
});

test('the write is atomic: a failure midway leaves the previous file whole and no temp file behind; folders are made', async () => {
  const dir = path.join(tmp, 'nested', 'exports');
  const file = path.join(dir, 'data.jsonl');
  await writeDatasetExport(rows.slice(0, 2), 'openai', file);
  const before = fs.readFileSync(file, 'utf8');
  function* failing(): Generator<ExportRow> {
    yield rows[2];
    throw new Error('the database went away');
  }
  await assert.rejects(writeDatasetExport(failing(), 'openai', file), (e: Error) => e.message.startsWith(`${file}: export as openai failed`) && /database went away/.test(e.message));
  assert.equal(fs.readFileSync(file, 'utf8'), before);
  assert.deepEqual(fs.readdirSync(dir), ['data.jsonl']);
});
