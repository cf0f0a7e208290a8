// GAtt synthesis, data side and through the contract (fake engine): multi-turn rows are picked,
// the instruction is appended to every user turn for sampling, and the stored rows hold it only
// in the system message with every earlier reply train=false; cancel keeps finished dialogues.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PlainRow } from '../../electron/core/datasets/dataset-service';
import { GattInstructionOptions } from '../../electron/shared/contract-gatt';
import type { SampleDialoguesParams } from '../../electron/shared/engine-protocol-gatt';
import { gattRows, synthesisFormRows } from '../../electron/core/training/gatt/gatt-rows';
import { combine, signoff } from '../../electron/core/training/gatt/instructions';
import { multiTurnDialogues, planSynthesis, synthesizedRows } from '../../electron/core/training/gatt/synthesis';
import { withModel } from './helpers';

const chat = (...turns: [string, string][]): PlainRow => ({
  kind: 'chat',
  split: null,
  messages: turns.flatMap(([u, a]) => [
    { role: 'user' as const, content: u, train: true },
    { role: 'assistant' as const, content: a, train: true },
  ]),
});
const rows: PlainRow[] = [
  chat(['Hi', 'Hello']),
  chat(['One?', 'a'], ['Two?', 'b'], ['Three?', 'c']),
  { kind: 'completion', split: null, messages: [{ role: 'user', content: 'p', train: true }, { role: 'assistant', content: 'c', train: true }] },
  { ...chat(['Q1', 'A1'], ['Q2', 'A2']), messages: [{ role: 'system', content: 'Be kind.', train: true }, ...chat(['Q1', 'A1'], ['Q2', 'A2']).messages] },
];

test('only chat rows with minTurns user turns are dialogues; their system message is kept', () => {
  assert.deepEqual(multiTurnDialogues(rows, 2), [
    { row: 1, users: ['One?', 'Two?', 'Three?'] },
    { row: 3, system: 'Be kind.', users: ['Q1', 'Q2'] },
  ]);
  assert.deepEqual(multiTurnDialogues(rows, 3).map((d) => d.row), [1]);
});

test('GAtt rows: the instruction only in the system message, earlier replies train=false, the last trained; the ablation form repeats it', () => {
  const d = { instruction: combine([signoff('cat')], true), users: ['u1', 'u2', 'u3'], replies: ['r1 cat', 'r2 cat', 'r3 cat'] };
  const [row] = gattRows(d);
  assert.deepEqual(
    row.messages.map((m) => [m.role, m.content, m.train]),
    [['system', 'Sign-off: cat', true], ['user', 'u1', true], ['assistant', 'r1 cat', false], ['user', 'u2', true], ['assistant', 'r2 cat', false], ['user', 'u3', true], ['assistant', 'r3 cat', true]],
  );
  const every = gattRows(d, 'every');
  assert.deepEqual(every.map((r) => r.messages.length), [3, 5, 7], 'a row per turn k');
  for (const r of every) assert.deepEqual(r.messages.filter((m) => m.role === 'assistant' && m.train).length, 1);
  const [plain] = synthesisFormRows(d);
  assert.deepEqual(plain.messages.filter((m) => m.role === 'user').map((m) => m.content), ['u1', 'u2', 'u3'].map((u) => `${u}\nAlways end your reply with the word cat.`));
  assert.ok(plain.messages.every((m) => m.train));
});

test('the plan samples each dialogue with the long instruction appended to every user turn', () => {
  const plan = planSynthesis(rows, { minTurns: 2, instructions: GattInstructionOptions.parse({ seed: 3, shortenShare: 1 }) });
  assert.equal(plan.toSample.length, 2);
  plan.toSample.forEach((d, i) => {
    const inst = plan.instructions[i];
    assert.notEqual(inst.text, inst.long, 'shortened for the stored row');
    assert.deepEqual(d.users, plan.sources[i].users.map((u) => `${u}\n${inst.long}`));
  });
  assert.equal(plan.toSample[1].system, 'Be kind.');
  const out = synthesizedRows(plan, [['a', 'b', 'c'], ['x', 'y']]);
  assert.equal(out[1].messages[0].content, `Be kind.\n${plan.instructions[1].text}`);
  assert.deepEqual(out[1].messages.slice(1).map((m) => m.content), ['Q1', 'x', 'Q2', 'y']);
});

test('gatt.synthesize through the contract: progress events, the new dataset holds GAtt rows; cancel keeps what was finished', async () => {
  const seen: SampleDialoguesParams[] = [];
  let cancelled = false;
  const t = await withModel({
    methods: {
      sampleDialogues: async (p, onEvent) => {
        seen.push(p);
        const replies: string[][] = [];
        for (const [i, d] of p.dialogues.entries()) {
          if (cancelled) return { replies, cancelled: true };
          replies.push(d.users.map((_, k) => `reply ${k + 1}`));
          onEvent({ done: i + 1, total: p.dialogues.length, stage: p.stage });
          if (p.jobId === 'j4') cancelled = true; // the user cancels while the first dialogue is sampled
        }
        return { replies, cancelled: false };
      },
      cancelSampling: async () => {
        cancelled = true;
        return { ok: true };
      },
    },
  });
  const created: { name: string; format: string; rows: PlainRow[] }[] = [];
  t.core.datasets.readVersion = (id) => {
    assert.equal(id, 'ds1@4');
    return rows;
  };
  t.core.datasets.createFromRows = (name, format, out) => {
    created.push({ name, format, rows: out });
    return `new${created.length}`;
  };
  const res = await t.call('gatt.synthesize', { jobId: 'j1', datasetId: 'ds1@4', modelId: t.model.id, instructions: { seed: 1 }, rowsPerDialogue: 'every' });
  assert.deepEqual(res, { datasetId: 'new1', rows: 5 });
  assert.equal(seen[0].modelPath, t.model.path);
  assert.equal(seen[0].adapterPath, undefined, 'no run: the base samples');
  assert.equal(seen[0].settings.temperature, 0.7);
  assert.deepEqual(t.eventsOf('gatt.progress').map((e) => e.done), [0, 1, 2]);
  assert.equal(created[0].format, 'gatt');
  for (const r of created[0].rows) {
    assert.equal(r.messages[0].role, 'system');
    assert.deepEqual(r.messages.filter((m) => m.role === 'assistant').map((m) => m.train).slice(-1), [true]);
  }

  await t.call('gatt.cancel', { jobId: 'j2' });
  await assert.rejects(t.call('gatt.synthesize', { jobId: 'j2', datasetId: 'ds1@4', modelId: t.model.id }), /cancelled before the first dialogue/);
  assert.equal(created.length, 1, 'nothing stored');
  cancelled = false;
  const partial = await t.call('gatt.synthesize', { jobId: 'j4', datasetId: 'ds1@4', modelId: t.model.id, name: undefined });
  assert.deepEqual(partial, { datasetId: 'new2', rows: 1 });
  assert.equal(created[1].name, 'ds1@4 (GAtt, 1 of 2 dialogues)');

  t.core.datasets.readVersion = () => [rows[0]];
  await assert.rejects(t.call('gatt.synthesize', { jobId: 'j3', datasetId: 'ds1@4', modelId: t.model.id }), (e: Error & { code?: string }) => e.code === 'BAD_REQUEST' && /no chat row has 2 or more user turns/.test(e.message));
});

test('eval.adherence through the contract: the same dialogues for base and tuned, scored per turn', async () => {
  const stages: string[] = [];
  const t = await withModel({
    methods: {
      sampleDialogues: async (p) => {
        stages.push(p.stage);
        // The base obeys only at turn 1, the "tuned" model always: replies end with the sign-off word.
        return {
          replies: p.dialogues.map((d) => d.users.map((_, k) => (p.adapterPath || k === 0 ? `ok ${d.system?.split(': ')[1] ?? d.system}` : 'no'))),
          cancelled: false,
        };
      },
    },
  });
  t.core.runs.ensureAdapter = async (id) => `/runs/${id}/adapter.gguf`;
  const res = await t.call('eval.adherence', { jobId: 'e1', modelId: t.model.id, runId: 'r1', turns: 3, dialogues: 4, instructions: { kinds: ['signoff'], shortenShare: 1 } });
  assert.deepEqual(stages, ['eval base', 'eval fine-tuned']);
  assert.deepEqual(res.base.map((p) => p.share), [1, 0, 0]);
  assert.deepEqual(res.tuned?.map((p) => p.share), [1, 1, 1]);
  assert.ok(res.base.every((p) => p.total === 4));
  await assert.rejects(t.call('eval.adherence', { jobId: 'e2', modelId: t.model.id, instructions: { kinds: ['hobby'] } }), /need a machine check/);
});
