// Reading training data files: the shared test data import with the right counts in every format,
// OASST's two layouts give the same conversations, broken lines are quarantined with their line
// number and the parser's message (nothing else lost), and dubious rows are kept and flagged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readDatasetFile } from '../../electron/core/datasets/read-dataset';
import type { ChatSample, TrainingSample } from '../../electron/core/datasets/sample';
import { noTestdata, testdataDir } from '../support/testdata';

const data = (p: string) => path.join(testdataDir, 'datasets', p);
const chats = (samples: TrainingSample[]) =>
  samples.map((s) => {
    assert.equal(s.kind, 'chat');
    return (s as ChatSample).messages;
  });

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-datasets-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
function writeTemp(name: string, text: string): string {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, text);
  return f;
}

test('Alpaca: 5,000 rows as user/assistant chats, the 2 empty replies kept and flagged', { skip: noTestdata }, async () => {
  const r = await readDatasetFile(data('alpaca/alpaca_5000.json'));
  assert.equal(r.format, 'alpaca');
  assert.equal(r.samples.length, 5000);
  assert.deepEqual(r.quarantined, []);
  assert.deepEqual(r.flagged, [
    { index: 2335, problems: ['empty reply'] },
    { index: 4658, problems: ['empty reply'] },
  ]);
  const [first] = chats(r.samples);
  assert.deepEqual(first, [
    { role: 'user', content: 'Are the two sentences below grammatically correct? Output yes or no.\n\nSentence 1: I am going to the store.\nSentence 2: I goes to the store.' },
    { role: 'assistant', content: 'No' },
  ]);
  // Rows without an input are the instruction alone.
  assert.equal(chats(r.samples)[2335][0].content, 'Retrieve the following data from the World Bank database\nUnemployment rate in India from 2005 to 2010');
});

test('OASST: 100 best-ranked conversations from the tree export, the flat layout and the message export alike; 564 along all paths', { skip: noTestdata }, async () => {
  const tree = await readDatasetFile(data('oasst/en_100_tree.jsonl'));
  const flat = await readDatasetFile(data('oasst/en_100_flat.jsonl'));
  const message = await readDatasetFile(data('oasst/en_100_message.jsonl'));
  for (const r of [tree, flat, message]) {
    assert.equal(r.format, 'oasst');
    assert.equal(r.samples.length, 100);
    assert.deepEqual(r.quarantined, []);
    assert.deepEqual(r.flagged, []);
  }
  assert.deepEqual(chats(flat.samples), chats(tree.samples));
  assert.deepEqual(chats(message.samples), chats(tree.samples));
  for (const m of chats(tree.samples)) {
    assert.equal(m[0].role, 'user');
    assert.equal(m[m.length - 1].role, 'assistant', 'an unanswered last user turn is dropped');
  }
  // The first tree's best path: its rank-0 reply (the file's first reply of the root).
  const first = chats(tree.samples)[0];
  assert.equal(first[0].content, 'How can I find the best 401k plan for my needs?');
  assert.ok(first[1].content.startsWith('The first step is to research your options.'));

  const allTree = await readDatasetFile(data('oasst/en_100_tree.jsonl'), { oasst: 'all' });
  const allFlat = await readDatasetFile(data('oasst/en_100_flat.jsonl'), { format: 'oasst', oasst: 'all' });
  // 564 = the 400 root-to-leaf paths that end on an assistant reply (SOURCES.md) + 164 assistant
  // replies whose user follow-up is an unanswered leaf (that path, trimmed to the reply, once each).
  assert.equal(allTree.samples.length, 564);
  assert.equal(chats(allTree.samples).filter((m) => m[m.length - 1].role === 'assistant').length, 564);
  assert.deepEqual(allTree.flagged, []);
  assert.deepEqual(chats(allFlat.samples), chats(allTree.samples));
  const keys = chats(allTree.samples).map((m) => JSON.stringify(m));
  assert.equal(new Set(keys).size, 564, 'no conversation twice');
  for (const m of chats(tree.samples)) assert.ok(keys.includes(JSON.stringify(m)), 'every best path is one of all the paths');
});

test('OASST flat layout: the best path follows rank 0 (not file order, unranked last); orphans and bad roles are quarantined', async () => {
  const m = (id: string, parent: string | null, role: string, text: string, rank?: number) =>
    JSON.stringify({ message_id: id, parent_id: parent, message_tree_id: 't', role, text, ...(rank === undefined ? {} : { rank }) });
  const lines = [
    m('p', null, 'prompter', 'Q'),
    m('a2', 'p', 'assistant', 'unranked'),
    m('a1', 'p', 'assistant', 'second best', 1),
    m('a0', 'p', 'assistant', 'best', 0),
    m('u', 'a0', 'prompter', 'unanswered follow-up'),
    m('x', 'missing', 'assistant', 'orphan'),
    m('y', 'p', 'moderator', 'who?'),
  ];
  const f = writeTemp('flat.jsonl', lines.join('\n'));
  const best = await readDatasetFile(f);
  assert.equal(best.format, 'oasst');
  assert.deepEqual(chats(best.samples), [[{ role: 'user', content: 'Q' }, { role: 'assistant', content: 'best' }]]);
  assert.deepEqual(best.quarantined.map((q) => q.line), [6, 7]);
  assert.match(best.quarantined[0].error, /parent missing is not in the file/);
  assert.match(best.quarantined[1].error, /role is "moderator"/);
  const all = await readDatasetFile(f, { oasst: 'all' });
  assert.deepEqual(chats(all.samples).map((c) => c[1].content), ['unranked', 'second best', 'best']);
});

test('ShareGPT: FastChat 500 conversations (167/166/167 of 2/4/6 turns); axolotl 1 conversation of 12 turns', { skip: noTestdata }, async () => {
  const fc = await readDatasetFile(data('sharegpt/fastchat/dummy_conversation.json'));
  assert.equal(fc.format, 'sharegpt');
  assert.equal(fc.samples.length, 500);
  assert.deepEqual(fc.quarantined, []);
  assert.deepEqual(fc.flagged, []);
  const lengths = new Map<number, number>();
  for (const m of chats(fc.samples)) lengths.set(m.length, (lengths.get(m.length) ?? 0) + 1);
  assert.deepEqual([...lengths].sort(), [[2, 167], [4, 166], [6, 167]]);
  assert.deepEqual(chats(fc.samples)[0].slice(0, 2), [
    { role: 'user', content: 'Who are you?' },
    { role: 'assistant', content: 'I am Vicuna, a language model trained by researchers from Large Model Systems Organization (LMSYS).' },
  ]);

  const ax = await readDatasetFile(data('sharegpt/axolotl/conversation.json'));
  assert.equal(ax.format, 'sharegpt');
  assert.equal(ax.samples.length, 1);
  const [conv] = chats(ax.samples);
  assert.equal(conv.length, 12);
  assert.deepEqual(conv.map((m) => m.role), Array.from({ length: 12 }, (_, i) => (i % 2 ? 'assistant' : 'user')));
});

test('a JSONL file broken on line 137 keeps every good row and quarantines line 137 with the parser message', async () => {
  const lines = Array.from({ length: 200 }, (_, i) =>
    JSON.stringify({ messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: `q${i}` }, { role: 'assistant', content: `a${i}` }] }),
  );
  lines[136] = '{"messages": [{"role": "user", "content": "oops"}'; // line 137: unterminated
  let parserMessage = '';
  try {
    JSON.parse(lines[136]);
  } catch (err) {
    parserMessage = (err as Error).message;
  }
  const r = await readDatasetFile(writeTemp('broken.jsonl', lines.join('\n') + '\n'));
  assert.equal(r.format, 'openai');
  assert.equal(r.samples.length, 199);
  assert.deepEqual(r.quarantined, [{ line: 137, error: parserMessage }]);
  assert.deepEqual(chats(r.samples)[136][1], { role: 'user', content: 'q137' }, 'the row after the broken one follows on');
});

test('a JSON array with a broken element keeps the others and quarantines the element by its line', async () => {
  const text = '[\n  {"prompt": "a", "completion": "b"},\n  {"prompt": "c", "completion": },\n  {"prompt": "x,]", "completion": "y\\"}"}\n]\n';
  const r = await readDatasetFile(writeTemp('array.json', text));
  assert.equal(r.format, 'completions');
  assert.deepEqual(r.samples, [
    { kind: 'completion', prompt: 'a', completion: 'b' },
    { kind: 'completion', prompt: 'x,]', completion: 'y"}' },
  ]);
  assert.equal(r.quarantined.length, 1);
  assert.equal(r.quarantined[0].line, 3);
  assert.match(r.quarantined[0].error, /JSON/);
});

test('rows that parse but are dubious are kept and flagged; rows that are not samples are quarantined', async () => {
  const rows = [
    { messages: [{ role: 'user', content: 'hi' }] }, // no assistant turn
    { messages: [{ role: 'assistant', content: 'hello' }, { role: 'user', content: 'hi' }] }, // out of order
    { messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: '  ' }] }, // empty reply
    { messages: [{ role: 'user', content: 'hi' }, { role: 'tool', content: '{}' }] }, // unknown role: not a sample
    { messages: [{ role: 'user', content: [{ type: 'text', text: 'two ' }, { type: 'text', text: 'parts' }] }, { role: 'assistant', content: 'ok' }] },
    { conversations: [{ from: 'human', value: 'wrong format for this file' }] }, // not openai
    { messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }, { role: 'user', content: 'q2' }] }, // ends on a user turn
  ];
  const r = await readDatasetFile(writeTemp('dubious.jsonl', rows.map((x) => JSON.stringify(x)).join('\n')));
  assert.equal(r.format, 'openai');
  assert.equal(r.samples.length, 5);
  assert.deepEqual(r.flagged, [
    { index: 0, problems: ['no assistant turn'] },
    { index: 1, problems: ['roles out of order'] },
    { index: 2, problems: ['empty reply'] },
    { index: 4, problems: ['ends with a user turn'] },
  ]);
  assert.deepEqual(chats(r.samples)[3][0], { role: 'user', content: 'two parts' });
  assert.deepEqual(r.quarantined.map((q) => q.line), [4, 6]);
  assert.match(r.quarantined[0].error, /messages\[1\]\.role is "tool"/);
  assert.match(r.quarantined[1].error, /"messages" must be an array/);
});

test('text: JSONL {"text"} records, or a .txt file with one sample per blank-line-separated paragraph', async () => {
  const jsonl = await readDatasetFile(writeTemp('t.jsonl', '{"text": "one"}\n\n{"text": ""}\n'));
  assert.equal(jsonl.format, 'text');
  assert.deepEqual(jsonl.samples, [{ kind: 'text', text: 'one' }, { kind: 'text', text: '' }]);
  assert.deepEqual(jsonl.flagged, [{ index: 1, problems: ['empty text'] }]);
  const txt = await readDatasetFile(writeTemp('story.txt', 'Once upon a time.\nThe end.\r\n\r\n\n  Another one.  \n \nLast\n'));
  assert.equal(txt.format, 'text');
  assert.deepEqual(txt.samples, [
    { kind: 'text', text: 'Once upon a time.\nThe end.' },
    { kind: 'text', text: 'Another one.' },
    { kind: 'text', text: 'Last' },
  ]);
});

test('errors name the file: a table with no usable columns, a broken Parquet file, an unknown shape, a missing file', async () => {
  const csv = writeTemp('rows.csv', 'instruction,output\nhi,there\n');
  assert.deepEqual((await readDatasetFile(csv)).samples, [{ kind: 'chat', messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'there' }] }]);
  const oddCsv = writeTemp('odd.csv', 'colour,size\nred,4\n');
  await assert.rejects(readDatasetFile(oddCsv), (e: Error) => e.message.startsWith(oddCsv) && /columns found: colour, size/.test(e.message));
  const parquet = writeTemp('rows.bin', 'PAR1....');
  await assert.rejects(readDatasetFile(parquet), (e: Error) => e.message.startsWith(parquet) && /Parquet/.test(e.message));
  const odd = writeTemp('odd.jsonl', '{"question": "q", "answer": "a"}\n');
  await assert.rejects(readDatasetFile(odd), (e: Error) => e.message.startsWith(odd) && /question, answer/.test(e.message));
  const missing = path.join(tmp, 'nope.json');
  await assert.rejects(readDatasetFile(missing), (e: Error) => e.message.startsWith(`${missing}: cannot read`));
});
