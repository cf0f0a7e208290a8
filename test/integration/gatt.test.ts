// The GAtt acceptance test (issue 6), on the bundled tiny model with the real addon: a GAtt dataset
// synthesized from 3-turn dialogues (replies sampled by stories260K with the instruction appended
// to every user turn) holds the instruction exactly once, in the first turn (the system message),
// and at token level only the last reply (and its <|im_end|>) carries loss — in-process, through
// `mask --mode gatt`, and in the trainer's own step (its loss-token count).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadAddon, type NativeModel } from '../../electron/engine/addon';
import { CachedContext } from '../../electron/engine/generate';
import { sampleDialogues } from '../../electron/engine/gatt-jobs';
import { tokenizeForTraining } from '../../electron/engine/training-rows';
import { TrainingRun } from '../../electron/engine/train/training-run';
import { RunDir } from '../../electron/engine/train/run-dir';
import { makeRunConfig } from '../../electron/core/training/run-config';
import { planSynthesis, synthesizedRows } from '../../electron/core/training/gatt/synthesis';
import type { PlainRow } from '../../electron/core/datasets/dataset-service';
import { GattInstructionOptions } from '../../electron/shared/contract-gatt';
import { bundledGguf, repoRoot } from '../support/testdata';

const chat = (...users: string[]): PlainRow => ({
  kind: 'chat',
  split: null,
  messages: users.flatMap((u) => [
    { role: 'user' as const, content: u, train: true },
    { role: 'assistant' as const, content: 'an old reply', train: true },
  ]),
});
const source = [
  chat('Tell me about the cat.', 'Where did it go?', 'What did it eat?'),
  chat('Once there was a boy.', 'What was his name?', 'Did he have a dog?'),
  chat('Hello!', 'Not a dialogue yet'), // 2 turns: left out with minTurns 3
];

/** The text of tokens [0, i) as printed (control tokens print nothing). */
const textOf = (m: NativeModel, ids: number[]) => Buffer.concat(ids.map((t) => m.tokenBytes(t))).toString('utf8');

test('GAtt dataset from 3-turn dialogues: the instruction in turn 1 only, loss only on the last reply (token level)', async () => {
  const addon = loadAddon();
  const model = await addon.loadModel(bundledGguf);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-gatt-'));
  try {
    const plan = planSynthesis(source, { minTurns: 3, instructions: GattInstructionOptions.parse({ seed: 2, maxCombined: 2 }) });
    assert.equal(plan.toSample.length, 2);
    const cache = new CachedContext(model.createContext({ contextLength: 512 }));
    const done: number[] = [];
    const { replies, cancelled } = await sampleDialogues(addon, model, cache, plan.toSample, {
      settings: { temperature: 0.8, topP: 0.95, topK: 40, maxTokens: 20, seed: 1, stop: [] },
      onDialogue: (n) => done.push(n),
    });
    cache.ctx.dispose();
    assert.equal(cancelled, false);
    assert.deepEqual(done, [1, 2], 'progress per dialogue');
    assert.deepEqual(replies.map((r) => r.length), [3, 3], 'a reply sampled after every user turn');
    const rows = synthesizedRows(plan, replies);
    const data = path.join(tmp, 'gatt.jsonl');
    fs.writeFileSync(data, rows.map((r) => JSON.stringify({ messages: r.messages.map(({ role, content }) => ({ role, content })) })).join('\n') + '\n');

    let expectedLossTokens = 0;
    for (const [i, row] of rows.entries()) {
      const inst = plan.instructions[i];
      const sample = { kind: 'chat' as const, messages: row.messages };
      const out = tokenizeForTraining(model, sample, 'gatt');
      const text = textOf(model, out.tokens);
      // The instruction: exactly once, inside the first turn (the system message, before the first user turn).
      const firstUser = text.indexOf('<|im_start|>user');
      assert.equal(text.split(inst.text).length - 1, 1, `"${inst.text}" once in:\n${text}`);
      assert.ok(text.indexOf(inst.text) < firstUser, 'in the first turn');
      assert.ok(text.trimStart().startsWith(`<|im_start|>system\n${inst.text}<|im_end|>`), JSON.stringify(text.slice(0, 80)));
      if (inst.long !== inst.text) assert.ok(!text.includes(inst.long), 'the long form used for sampling is gone');
      // Loss weights: non-zero exactly on one span, the last reply and its end-of-turn marker.
      const trained = out.weights.flatMap((w, k) => (w ? [k] : []));
      assert.ok(trained.length > 0);
      assert.equal(trained[trained.length - 1] - trained[0] + 1, trained.length, 'one contiguous span');
      const lastReply = replies[i][2];
      assert.equal(textOf(model, trained.map((k) => out.tokens[k])), `${lastReply}<|im_end|>`);
      const before = textOf(model, out.tokens.slice(0, trained[0]));
      assert.ok(before.endsWith('<|im_start|>assistant\n'), 'everything before the last reply has weight 0');
      for (const earlier of replies[i].slice(0, 2)) if (earlier) assert.ok(before.includes(earlier), 'earlier replies are in the context, untrained');
      // `mask --mode gatt` shows exactly this row.
      const cli = spawnSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'electron/cli/main.ts'), 'mask', '--model', bundledGguf, '--data', data, '--row', String(i), '--mode', 'gatt'], {
        encoding: 'utf8',
        cwd: repoRoot,
      });
      assert.equal(cli.status, 0, cli.stderr);
      assert.deepEqual(JSON.parse(cli.stdout), { tokens: out.tokens, pieces: out.pieces, weights: out.weights });
      expectedLossTokens += trained.length;
    }

    // `train --mask gatt` trains exactly these tokens: one step over every row (one row each, unpacked) counts them.
    const config = makeRunConfig({ model: bundledGguf, data, method: 'full', threads: 2, mask: 'gatt', steps: 1, batch: rows.length, maxSeqLen: 512, pack: false });
    let lossTokens = -1;
    await new TrainingRun(addon, new RunDir(path.join(tmp, 'run')), config, false, { onStep: (m) => (lossTokens = m.loss_tokens) }).run();
    assert.equal(lossTokens, expectedLossTokens);
  } finally {
    model.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('gatt-demo --quick: the whole pipeline (SFT, synthesis, GAtt vs without, eval) runs and reports a turn 1..8 table and its JSON', async () => {
  // --quick trains 2 steps per stage: it checks the command's plumbing; its numbers demonstrate nothing.
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-gatt-demo-'));
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'electron/cli/main.ts'), 'gatt-demo', '--quick', '--out', out], { encoding: 'utf8', cwd: repoRoot, timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines[0], 'turn  SFT only  without GAtt  with GAtt');
    assert.deepEqual(lines.slice(1, 9).map((l) => Number(l.trim().split(/\s+/)[0])), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.match(lines[9], /^turns 5-8: GAtt \d+\.\d%, without GAtt \d+\.\d%, SFT only \d+\.\d%$/);
    assert.equal(lines.length, 11, 'stdout holds only the table and its summary');
    const json = JSON.parse(fs.readFileSync(path.join(out, 'gatt-demo.json'), 'utf8'));
    for (const k of ['sft', 'noGatt', 'gatt']) {
      assert.deepEqual(json.adherence[k].map((p: { turn: number }) => p.turn), [1, 2, 3, 4, 5, 6, 7, 8]);
      assert.ok(json.adherence[k].every((p: { total: number }) => p.total === 2), 'every eval dialogue reaches turn 8');
    }
    for (const f of ['sft.gguf', 'gatt.gguf', 'no-gatt.gguf', 'gatt.jsonl', 'no-gatt.jsonl']) assert.ok(fs.existsSync(path.join(out, f)), f);
    const gattRow = JSON.parse(fs.readFileSync(path.join(out, 'gatt.jsonl'), 'utf8').split('\n')[0]);
    assert.equal(gattRow.messages[0].role, 'system', 'the GAtt data keeps the instruction in the system message');
    assert.ok(!gattRow.messages.some((m: { role: string; content: string }) => m.role === 'user' && m.content.includes(gattRow.messages[0].content)));
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
