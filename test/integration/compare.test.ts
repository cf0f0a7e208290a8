// compare.send on the real engine: the base and the run's adapter on ONE loaded base (the
// adapter hot-swapped per reply). Greedy, so replies are reproducible: the base side is the same
// before and after the adapter was attached (swapping it off restores the base exactly) and the
// tuned side differs from the base after training. Tokens stream per side; a rating is stored as
// a preference record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRunsCore } from '../support/runs-core';
import { noTestdata } from '../support/testdata';

test('compare: base and tuned replies on one base with the adapter hot-swapped; A/B rating stored', { skip: noTestdata, timeout: 90_000 }, async () => {
  const t = await startRunsCore();
  const tokens: { compareId: string; side: string; text: string }[] = [];
  t.core.onEvent((event, payload) => {
    if (event === 'compare.token') tokens.push(payload as (typeof tokens)[number]);
  });
  try {
    const run = await t.call('runs.create', { modelId: t.model.id, datasetId: t.datasetId, method: 'lora', rank: 8, steps: 16, lr: 1e-2, maxSeqLen: 96, threads: 2 });
    await t.core.runs.idle();
    assert.equal((await t.call('runs.get', { runId: run.id })).status, 'done');
    const ask = { runId: run.id, prompt: 'Tell me part 2 of the story.', maxTokens: 24, temperature: 0 };
    const first = await t.call('compare.send', { ...ask, compareId: 'one' });
    const second = await t.call('compare.send', { ...ask, compareId: 'two' });
    assert.ok(first.base.length > 0 && first.tuned.length > 0, JSON.stringify(first));
    assert.notEqual(first.tuned, first.base, 'training changed the greedy reply');
    assert.deepEqual(second, first, 'detaching the adapter restores the base; attaching it again gives the same tuned reply');
    for (const side of ['base', 'tuned'] as const) {
      assert.equal(tokens.filter((e) => e.compareId === 'one' && e.side === side).map((e) => e.text).join(''), first[side]);
    }
    const { id } = await t.call('compare.rate', { runId: run.id, prompt: ask.prompt, chosen: first.tuned, rejected: first.base, chosenSide: 'tuned', strength: 'slightly' });
    const prefs = await t.call('compare.preferences', { runId: run.id });
    assert.deepEqual(prefs.map((p) => [p.id, p.chosenSide, p.strength, p.chosen]), [[id, 'tuned', 'slightly', first.tuned]]);
  } finally {
    await t.core.close();
  }
});
