// The demo's synthetic task: disjoint train/eval sentences that never contain a sign-off word (a
// reply can't obey by echoing the user), and SFT rows that obey the instruction in every turn.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DemoDialogues, splitSentences, userSentences } from '../../electron/core/training/gatt/demo-task';
import { SIGNOFFS, combine, signoff } from '../../electron/core/training/gatt/instructions';
import { obeys } from '../../electron/core/training/gatt/adherence';

test('train and eval sentences are disjoint halves and name no sign-off word', () => {
  const [train, evalSet] = splitSentences(0);
  assert.equal(train.length + evalSet.length, userSentences().length);
  assert.equal(new Set([...train, ...evalSet]).size, userSentences().length, 'all distinct');
  assert.ok(!train.some((s) => evalSet.includes(s)));
  for (const s of userSentences()) for (const w of SIGNOFFS) assert.ok(!s.toLowerCase().split(/\W+/).includes(w), `${s} / ${w}`);
  assert.deepEqual(splitSentences(0), [train, evalSet], 'seeded');
});

test('SFT rows: 1..maxTurns turns, the long instruction in every user turn, every reply obeying', () => {
  const task = new DemoDialogues(1, splitSentences(0)[0]);
  const inst = combine([signoff('bird')], false);
  const lengths = new Set<number>();
  for (let i = 0; i < 50; i++) {
    const row = task.sftRow(inst, 5);
    const users = row.messages.filter((m) => m.role === 'user');
    const replies = row.messages.filter((m) => m.role === 'assistant');
    lengths.add(users.length);
    assert.ok(users.every((m) => m.content.endsWith('\nAlways end your reply with the word bird.')));
    assert.ok(replies.every((m) => m.train && obeys(m.content, inst)));
  }
  assert.deepEqual([...lengths].sort(), [1, 2, 3, 4, 5]);
});
