// Streaming import: every format read batch by batch into rows (train flags included) and
// quarantine entries (line, raw text, the parser's message); the shared test data with the right
// counts; CSV / Parquet through a column mapping; the preview; a fixed quarantine line re-read;
// and a 100,000-row file streamed with a bounded heap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import {
  openDatasetStream,
  parseRecordText,
  previewDataset,
  type DatasetStreamOptions,
  type StreamQuarantine,
  type StreamRow,
} from '../../electron/core/datasets/dataset-stream';
import { datasetsContract } from '../../electron/shared/contract-datasets';
import { writeParquet } from '../fixtures/datasets/parquet-writer';
import { noTestdata, testdataDir } from '../support/testdata';

const data = (p: string) => path.join(testdataDir, 'datasets', p);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-stream-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
function writeTemp(name: string, text: string): string {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, text);
  return f;
}

async function readAll(file: string, opts: Partial<DatasetStreamOptions> = {}) {
  const stream = await openDatasetStream(file, { format: 'auto', oasst: 'best', ...opts });
  const rows: StreamRow[] = [];
  const quarantined: StreamQuarantine[] = [];
  let batches = 0;
  let bytesRead = 0;
  for await (const b of stream.batches()) {
    batches++;
    rows.push(...b.rows);
    quarantined.push(...b.quarantined);
    assert.ok(b.bytesRead >= bytesRead, 'progress never goes back');
    bytesRead = b.bytesRead;
  }
  return { stream, rows, quarantined, batches, bytesRead };
}

const msg = (role: 'system' | 'user' | 'assistant', content: string, train = true) => ({ role, content, train });
const parserMessage = (text: string) => {
  try {
    JSON.parse(text);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('it parses');
};

test('shared test data: Alpaca 5,000 (2 empty replies), FastChat 500, axolotl 1 of 12 turns', { skip: noTestdata }, async () => {
  const alpaca = await readAll(data('alpaca/alpaca_5000.json'));
  assert.equal(alpaca.stream.format, 'alpaca');
  assert.equal(alpaca.rows.length, 5000);
  assert.deepEqual(alpaca.quarantined, []);
  assert.ok(alpaca.batches >= 5, `read in batches (${alpaca.batches})`);
  assert.equal(alpaca.bytesRead, fs.statSync(data('alpaca/alpaca_5000.json')).size);
  const emptyReplies = alpaca.rows.map((r, i) => (r.messages.some((m) => m.role === 'assistant' && !m.content.trim()) ? i : -1)).filter((i) => i >= 0);
  assert.deepEqual(emptyReplies, [2335, 4658], 'kept as rows (validation flags them), not quarantined');
  assert.deepEqual(alpaca.rows[0].messages.map((m) => m.role), ['user', 'assistant']);
  assert.ok(alpaca.rows.every((r) => r.kind === 'chat' && r.messages.every((m) => m.train)));
  // The file is one 2 MB line (a JSON array): it was read in pieces, every row on line 1.
  assert.ok(alpaca.rows.every((r) => r.line === 1));

  const fc = await readAll(data('sharegpt/fastchat/dummy_conversation.json'));
  assert.equal(fc.stream.format, 'sharegpt');
  assert.equal(fc.rows.length, 500);
  assert.deepEqual(fc.quarantined, []);
  const ax = await readAll(data('sharegpt/axolotl/conversation.json'));
  assert.equal(ax.stream.format, 'sharegpt');
  assert.equal(ax.rows.length, 1);
  assert.equal(ax.rows[0].messages.length, 12);
  assert.equal(ax.rows[0].line, 1);
});

test('OASST: tree export and flat layout give the same 100 best-path and 564 all-path conversations; the preview counts both', { skip: noTestdata }, async () => {
  const tree = await readAll(data('oasst/en_100_tree.jsonl'));
  const flat = await readAll(data('oasst/en_100_flat.jsonl'));
  for (const r of [tree, flat]) {
    assert.equal(r.stream.format, 'oasst');
    assert.equal(r.rows.length, 100);
    assert.deepEqual(r.quarantined, []);
    assert.deepEqual(r.stream.oasstCounts, { best: 100, all: 564 }, 'counted while streaming');
  }
  assert.deepEqual(flat.rows.map((r) => r.messages), tree.rows.map((r) => r.messages));
  assert.deepEqual(tree.rows.slice(0, 3).map((r) => r.line), [1, 2, 3], 'a tree row points at its tree line');
  const allTree = await readAll(data('oasst/en_100_tree.jsonl'), { oasst: 'all' });
  const allFlat = await readAll(data('oasst/en_100_flat.jsonl'), { oasst: 'all' });
  assert.equal(allTree.rows.length, 564);
  assert.deepEqual(allFlat.rows.map((r) => r.messages), allTree.rows.map((r) => r.messages));

  for (const f of ['oasst/en_100_tree.jsonl', 'oasst/en_100_flat.jsonl']) {
    const p = await previewDataset(data(f), { format: 'auto', oasst: 'best' }, 5);
    assert.equal(p.format, 'oasst');
    assert.equal(p.detected, true);
    assert.equal(p.rows.length, 5);
    assert.deepEqual(p.oasstCounts, { best: 100, all: 564 });
    assert.equal(p.columns, null);
    assert.equal(p.fileBytes, fs.statSync(data(f)).size);
    assert.deepEqual(datasetsContract['datasets.preview'].response.parse(p), p, 'the contract response, exactly');
  }
});

test('broken JSON on line 137: that line is quarantined with its raw text and the parser message, every other row is read (JSONL and a JSON array)', async () => {
  const record = (i: number) => JSON.stringify({ messages: [msg('user', `q${i}`), msg('assistant', `a${i}`)].map(({ role, content }) => ({ role, content })) });
  const broken = '{"messages": [{"role": "user", "content": "oops"}';
  const lines = Array.from({ length: 300 }, (_, i) => record(i + 1));
  lines[136] = broken;
  const jsonl = await readAll(writeTemp('broken.jsonl', lines.join('\n') + '\n'));
  assert.equal(jsonl.rows.length, 299);
  assert.deepEqual(jsonl.quarantined, [{ line: 137, raw: broken, error: parserMessage(broken) }]);
  assert.deepEqual(jsonl.rows[136], { kind: 'chat', messages: [msg('user', 'q138'), msg('assistant', 'a138')], line: 138 });
  assert.ok(jsonl.rows.every((r) => r.line === Number(r.messages[0].content.slice(1))), 'every row keeps its own line');

  // The same as a JSON array, one element per line (line 1 is the "["): line 137 holds element 136.
  const elements = Array.from({ length: 300 }, (_, i) => record(i + 2));
  const brokenElement = '{"messages": [{"role": "user", "content": "oops"}]';
  elements[135] = brokenElement;
  const array = await readAll(writeTemp('broken.json', `[\n${elements.join(',\n')}\n]\n`));
  assert.equal(array.stream.format, 'openai');
  assert.equal(array.rows.length, 299);
  assert.deepEqual(array.quarantined, [{ line: 137, raw: brokenElement, error: parserMessage(brokenElement) }]);
  assert.equal(array.rows[135].line, 138);

  // A one-line array over 1 MiB (read in pieces) with a broken element in the middle.
  const many = Array.from({ length: 15000 }, (_, i) => record(i));
  many[3000] = '{"messages": [}';
  const oneLine = await readAll(writeTemp('one-line.json', `[${many.join(', ')}]`));
  assert.ok(fs.statSync(path.join(tmp, 'one-line.json')).size > 2 ** 20);
  assert.equal(oneLine.rows.length, 14999);
  assert.deepEqual(oneLine.quarantined, [{ line: 1, raw: '{"messages": [}', error: parserMessage('{"messages": [}') }]);
  assert.equal(oneLine.rows[3000].messages[0].content, 'q3001');
});

test('a JSON array recovers after a broken quote, a missing brace or a missing final ], and loses no row', async () => {
  const el = (i: number) => JSON.stringify({ prompt: `p${i}`, completion: `c${i}` });
  const lines = Array.from({ length: 10 }, (_, i) => el(i));
  lines[3] = '{"prompt": "p3, "completion": "c3"}'; // a quote missing: the string state is wrong from here to the line end
  lines[6] = '{"prompt": "p6", "completion": "c6"'; // a brace missing: the nesting never closes
  const r = await readAll(writeTemp('recover.json', `[\n${lines.join(',\n')}\n`)); // and no final ]
  assert.deepEqual(r.rows.map((x) => x.messages[0].content), ['p0', 'p1', 'p2', 'p4', 'p5', 'p7', 'p8', 'p9']);
  assert.deepEqual(r.quarantined.map((q) => [q.line, q.raw]), [[5, lines[3]], [8, lines[6]], [11, '']]);
  assert.equal(r.quarantined[0].error, parserMessage(lines[3]));
  assert.equal(r.quarantined[1].error, parserMessage(lines[6]));
  assert.match(r.quarantined[2].error, /the array is not closed/);
});

test('OpenAI "weight": 0 keeps an assistant turn untrained; a weight other than 0 or 1 is quarantined; system turns are kept', async () => {
  const rows = [
    { messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hi' }, { role: 'assistant', content: 'draft', weight: 0 }, { role: 'user', content: 'again' }, { role: 'assistant', content: 'final', weight: 1 }] },
    { messages: [{ role: 'user', content: 'x' }, { role: 'assistant', content: 'y', weight: 0.5 }] },
  ];
  const r = await readAll(writeTemp('weights.jsonl', rows.map((x) => JSON.stringify(x)).join('\n')));
  assert.deepEqual(r.rows.map((x) => x.messages), [[msg('system', 'Be brief.'), msg('user', 'hi'), msg('assistant', 'draft', false), msg('user', 'again'), msg('assistant', 'final')]]);
  assert.equal(r.quarantined.length, 1);
  assert.equal(r.quarantined[0].line, 2);
  assert.equal(r.quarantined[0].raw, JSON.stringify(rows[1]));
  assert.match(r.quarantined[0].error, /messages\[1\]\.weight is 0\.5: expected 0 or 1/);
});

test('CSV with a column mapping: multi-line quoted cells, a bad row quarantined with csv-parse message, rows after it kept', async () => {
  const csv = [
    'sys,question,reply,notes',
    'Be kind,"What is 2+2?",4,x',
    'Be kind,"A question',
    'over two lines","An answer, with a comma",y',
    'too,many,fields,here,extra',
    ',"He said ""hi""",ok,z',
  ].join('\r\n');
  const file = writeTemp('mapped.csv', csv + '\r\n');
  const r = await readAll(file, { columns: { system: 'sys', prompt: 'question', response: 'reply' } });
  assert.equal(r.stream.format, 'csv');
  assert.deepEqual(r.rows, [
    { kind: 'chat', messages: [msg('system', 'Be kind'), msg('user', 'What is 2+2?'), msg('assistant', '4')], line: 2 },
    { kind: 'chat', messages: [msg('system', 'Be kind'), msg('user', 'A question\r\nover two lines'), msg('assistant', 'An answer, with a comma')], line: 3 },
    { kind: 'chat', messages: [msg('user', 'He said "hi"'), msg('assistant', 'ok')], line: 6 },
  ]);
  assert.deepEqual(r.quarantined.map((q) => [q.line, q.raw]), [[5, 'too,many,fields,here,extra']]);
  assert.match(r.quarantined[0].error, /Invalid Record Length: expect 4, got 5/);
  assert.deepEqual(r.stream.recordContext, { columns: { system: 'sys', prompt: 'question', response: 'reply' }, header: ['sys', 'question', 'reply', 'notes'], delimiter: ',' });
  // The fixed line re-reads with the file's header.
  assert.deepEqual(parseRecordText('csv', 'S,Q,A,n', r.stream.recordContext).messages, [msg('system', 'S'), msg('user', 'Q'), msg('assistant', 'A')]);
  assert.throws(() => parseRecordText('csv', 'too,many,fields,here,extra', r.stream.recordContext), /expected 4 fields/);
});

test('CSV / TSV without a mapping: common column names are recognised, conversation and text columns read, otherwise the error lists the columns', async () => {
  const alpaca = await readAll(writeTemp('alpaca.csv', 'Instruction,Input,Output\nSum these,1 and 2,3\nSay hi,,hi\n'));
  assert.deepEqual(alpaca.rows.map((r) => r.messages), [
    [msg('user', 'Sum these\n\n1 and 2'), msg('assistant', '3')],
    [msg('user', 'Say hi'), msg('assistant', 'hi')],
  ]);
  const qa = await readAll(writeTemp('qa.tsv', 'question\tanswer\nWhy?\tBecause.\n'));
  assert.deepEqual(qa.rows.map((r) => r.messages), [[msg('user', 'Why?'), msg('assistant', 'Because.')]]);
  const conv = [
    'messages',
    `"${JSON.stringify([{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b', weight: 0 }]).replace(/"/g, '""')}"`,
    `"${JSON.stringify([{ from: 'human', value: 'c' }, { from: 'gpt', value: 'd' }]).replace(/"/g, '""')}"`,
    '"not json"',
  ].join('\n');
  const c = await readAll(writeTemp('conv.csv', conv + '\n'));
  assert.deepEqual(c.rows.map((r) => r.messages), [
    [msg('user', 'a'), msg('assistant', 'b', false)],
    [msg('user', 'c'), msg('assistant', 'd')],
  ]);
  assert.equal(c.quarantined[0].line, 4);
  assert.match(c.quarantined[0].error, /column "messages" is not JSON turns: .*JSON/);
  const text = await readAll(writeTemp('text.csv', 'id,text\n1,A story.\n'));
  assert.deepEqual(text.rows, [{ kind: 'text', messages: [msg('assistant', 'A story.')], line: 2 }]);

  const odd = writeTemp('odd.csv', 'colour,size\nred,4\n');
  await assert.rejects(openDatasetStream(odd, { format: 'auto', oasst: 'best' }), (e: Error) => e.message.startsWith(odd) && /columns found: colour, size/.test(e.message));
  await assert.rejects(openDatasetStream(odd, { format: 'auto', oasst: 'best', columns: { prompt: 'colour', response: 'weight' } }), /response column "weight" is not in the file/);
  // The preview still shows the columns so the user can map them.
  const p = await previewDataset(odd, { format: 'auto', oasst: 'best' });
  assert.deepEqual([p.format, p.columns, p.rows], ['csv', ['colour', 'size'], []]);
  assert.deepEqual(datasetsContract['datasets.preview'].response.parse(p), p);
  const mapped = await previewDataset(odd, { format: 'auto', oasst: 'best', columns: { prompt: 'colour', response: 'size' } });
  assert.deepEqual(mapped.rows, [{ kind: 'chat', messages: [msg('user', 'red'), msg('assistant', '4')], problems: mapped.rows[0].problems, sourceLine: 2 }]);
});

test('Parquet (hyparquet): row groups streamed through the column mapping; a bad conversation cell is quarantined by record number', async () => {
  const file = path.join(tmp, 'rows.parquet');
  const rows = Array.from({ length: 2500 }, (_, i) => ({ question: `q${i}`, answer: `a${i}`, id: String(i) }));
  writeParquet(file, ['id', 'question', 'answer'], rows, 1000);
  const r = await readAll(file);
  assert.equal(r.stream.format, 'parquet');
  assert.equal(r.rows.length, 2500);
  assert.deepEqual(r.rows[2499], { kind: 'chat', messages: [msg('user', 'q2499'), msg('assistant', 'a2499')], line: 2500 });
  assert.equal(r.bytesRead > 0, true);
  const p = await previewDataset(file, { format: 'auto', oasst: 'best' }, 3);
  assert.deepEqual([p.format, p.detected, p.columns, p.rows.length], ['parquet', true, ['id', 'question', 'answer'], 3]);

  const convFile = path.join(tmp, 'conv.parquet');
  writeParquet(convFile, ['conversations'], [
    { conversations: JSON.stringify([{ from: 'system', value: 's' }, { from: 'human', value: 'h' }, { from: 'gpt', value: 'g' }]) },
    { conversations: '[{"from": "human"' },
  ]);
  const c = await readAll(convFile);
  assert.deepEqual(c.rows.map((x) => x.messages), [[msg('system', 's'), msg('user', 'h'), msg('assistant', 'g')]]);
  assert.deepEqual(c.quarantined.map((q) => q.line), [2]);
  assert.match(c.quarantined[0].error, /column "conversations" is not JSON turns/);
  assert.deepEqual(parseRecordText('parquet', '{"conversations": "[{\\"from\\": \\"human\\", \\"value\\": \\"h\\"}]"}').messages, [msg('user', 'h')]);
});

test('OASST flat files are read one tree at a time: a tree split across the file quarantines its late messages with the reason', async () => {
  const m = (id: string, parent: string | null, tree: string | undefined, role: string, text: string) =>
    JSON.stringify({ message_id: id, parent_id: parent, ...(tree ? { message_tree_id: tree } : {}), role, text, rank: 0 });
  const grouped = [m('p1', null, 't1', 'prompter', 'Q1'), m('a1', 'p1', 't1', 'assistant', 'A1'), m('p2', null, 't2', 'prompter', 'Q2'), m('a2', 'p2', 't2', 'assistant', 'A2'), m('late', 'a1', 't1', 'prompter', 'more?')];
  const r = await readAll(writeTemp('split.jsonl', grouped.join('\n')));
  assert.deepEqual(r.rows.map((x) => x.messages.map((y) => y.content)), [['Q1', 'A1'], ['Q2', 'A2']]);
  assert.deepEqual(r.quarantined.map((q) => q.line), [5]);
  assert.match(r.quarantined[0].error, /tree t1 was already read further up.*sort it by message_tree_id/);
  assert.equal(r.quarantined[0].raw, grouped[4]);
  // Without message_tree_id a tree runs from its root to the next root.
  const noTree = [m('p1', null, undefined, 'prompter', 'Q1'), m('a1', 'p1', undefined, 'assistant', 'A1'), m('p2', null, undefined, 'prompter', 'Q2'), m('a2', 'p2', undefined, 'assistant', 'A2')];
  const n = await readAll(writeTemp('notree.jsonl', noTree.join('\n')), { format: 'oasst' });
  assert.deepEqual(n.rows.map((x) => [x.line, x.messages.map((y) => y.content)]), [[1, ['Q1', 'A1']], [3, ['Q2', 'A2']]]);
});

test('plain text: one row per paragraph with its first line; pretty-printed JSON documents one after another', async () => {
  const txt = await readAll(writeTemp('story.txt', '\nOnce upon a time.\nThe end.\r\n\r\n\n  Another one.  \n \nLast'));
  assert.deepEqual(txt.rows, [
    { kind: 'text', messages: [msg('assistant', 'Once upon a time.\nThe end.')], line: 2 },
    { kind: 'text', messages: [msg('assistant', 'Another one.')], line: 6 },
    { kind: 'text', messages: [msg('assistant', 'Last')], line: 8 },
  ]);
  const docs = [{ prompt: 'p1', completion: 'c1' }, { prompt: 'p2', completion: 'c2' }].map((d) => JSON.stringify(d, null, 2)).join('\n');
  const r = await readAll(writeTemp('docs.json', docs));
  assert.equal(r.stream.format, 'completions');
  assert.deepEqual(r.rows, [
    { kind: 'completion', messages: [msg('user', 'p1'), msg('assistant', 'c1')], line: 1 },
    { kind: 'completion', messages: [msg('user', 'p2'), msg('assistant', 'c2')], line: 5 },
  ]);
});

test('parseRecordText: a fixed line becomes a row of the format, or throws the parser message', () => {
  assert.deepEqual(parseRecordText('openai', '{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a", "weight": 0}]}'), {
    kind: 'chat',
    messages: [msg('user', 'q'), msg('assistant', 'a', false)],
    line: null,
  });
  assert.deepEqual(parseRecordText('alpaca', '{"instruction": "i", "input": "x", "output": "o"}').messages, [msg('user', 'i\n\nx'), msg('assistant', 'o')]);
  assert.equal(parseRecordText('completions', '{"prompt": "p", "completion": "c"}').kind, 'completion');
  assert.equal(parseRecordText('text', '{"text": "t"}').kind, 'text');
  const broken = '{"messages": [}';
  assert.throws(() => parseRecordText('openai', broken), (e: Error) => e.message === parserMessage(broken));
  assert.throws(() => parseRecordText('sharegpt', '{"messages": []}'), /"conversations" must be an array/);
  const tree = { message_tree_id: 't', prompt: { message_id: 'p', role: 'prompter', text: 'Q', replies: [{ message_id: 'a', role: 'assistant', text: 'A', rank: 0, replies: [] }] } };
  assert.deepEqual(parseRecordText('oasst', JSON.stringify(tree)).messages, [msg('user', 'Q'), msg('assistant', 'A')]);
  assert.throws(() => parseRecordText('oasst', '{"message_id": "a", "parent_id": "p", "role": "assistant", "text": "A"}'), /a single flat message is not a conversation/);
});

test('a file of which no line parses, or whose records fit no format, is refused naming the file and why', async () => {
  const garbage = writeTemp('garbage.jsonl', 'not json\nnor this\n');
  await assert.rejects(openDatasetStream(garbage, { format: 'auto', oasst: 'best' }), (e: Error) => e.message.startsWith(`${garbage}: no JSON record could be read (line 1: `));
  const odd = writeTemp('odd.jsonl', '{"question": "q", "answer": "a"}\n');
  await assert.rejects(previewDataset(odd, { format: 'auto', oasst: 'best' }), (e: Error) => e.message.startsWith(odd) && /can't tell the dataset format.*question, answer/.test(e.message));
  // Given the format, the same records are quarantined one by one instead.
  const given = await readAll(odd, { format: 'alpaca' });
  assert.deepEqual(given.quarantined, [{ line: 1, raw: '{"question": "q", "answer": "a"}', error: '"instruction" must be a string, found nothing' }]);
});

test('a 100,000-row OpenAI JSONL streams with a bounded heap (growth under 24 MiB while the file is ~56 MiB)', async () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const file = path.join(tmp, 'big.jsonl');
  const out = fs.openSync(file, 'w');
  const filler = 'lorem ipsum dolor sit amet '.repeat(8);
  for (let start = 0; start < 100_000; start += 10_000) {
    const chunk: string[] = [];
    for (let i = start; i < start + 10_000; i++) {
      chunk.push(JSON.stringify({ messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: `question ${i} ${filler}` }, { role: 'assistant', content: `answer ${i} ${filler}` }] }));
    }
    fs.writeSync(out, chunk.join('\n') + '\n');
  }
  fs.closeSync(out);
  const bytes = fs.statSync(file).size;
  gc();
  const base = process.memoryUsage().heapUsed;
  let peak = 0;
  let rows = 0;
  let batches = 0;
  const started = Date.now();
  const stream = await openDatasetStream(file, { format: 'auto', oasst: 'best' });
  for await (const b of stream.batches()) {
    rows += b.rows.length;
    assert.equal(b.quarantined.length, 0);
    if (++batches % 10 === 0) {
      gc();
      peak = Math.max(peak, process.memoryUsage().heapUsed - base);
    }
  }
  const seconds = (Date.now() - started) / 1000;
  assert.equal(rows, 100_000);
  console.log(`# 100,000 rows (${(bytes / 2 ** 20).toFixed(1)} MiB) in ${seconds.toFixed(2)} s: ${Math.round(rows / seconds)} rows/s, heap growth at most ${(peak / 2 ** 20).toFixed(1)} MiB`);
  assert.ok(bytes > 50 * 2 ** 20, `the file is big enough to tell (${bytes} bytes)`);
  assert.ok(peak < 24 * 2 ** 20, `heap growth ${(peak / 2 ** 20).toFixed(1)} MiB stays under 24 MiB`);
});
