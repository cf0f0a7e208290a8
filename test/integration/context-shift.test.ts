// The shift policy on the real engine: a reply longer than the context goes on past the full
// KV cache (the oldest half after the kept prefix is discarded each time), and the cache's
// position stays in step with the tokens the host thinks it holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { loadAddon } from '../../electron/engine/addon';
import { CachedContext, generate } from '../../electron/engine/generate';
import { bundledGguf } from '../support/testdata';

const noModel = fs.existsSync(bundledGguf) ? undefined : `bundled model not built at ${bundledGguf}`;
const noShift = 'ctx.shift is not in this build of the addon';

test('shift: 120 tokens in a 48-token context, with the cache in step', { skip: noModel }, async (t) => {
  const addon = loadAddon();
  const model = await addon.loadModel(bundledGguf);
  const ctx = model.createContext({ contextLength: 48, threads: 1 });
  try {
    if (typeof ctx.shift !== 'function') return t.skip(noShift);
    const cache = new CachedContext(ctx);
    const prompt = model.tokenize('Once upon a time', true);
    const settings = { temperature: 0.8, topP: 0.95, topK: 40, maxTokens: 120, seed: 3, stop: [], contextPolicy: 'shift' as const };
    // Ban the end of a story so the reply has to run into the full context.
    const r = await generate(addon, model, cache, prompt, { settings: { ...settings, logitBias: [{ token: String(model.info.eosId), bias: 'ban' }, { token: String(model.info.bosId), bias: 'ban' }] } });
    assert.equal(r.stats.stopReason, 'max_tokens');
    assert.equal(r.stats.completionTokens, 120);
    assert.ok(r.stats.contextShifts >= 2, `shifts: ${r.stats.contextShifts}`);
    assert.ok(r.text.length > 100, r.text);
    assert.equal(ctx.position, cache.position);
    assert.ok(cache.position <= 48);
    // The same run under truncate stops at the full context.
    cache.reset();
    const cut = await generate(addon, model, cache, prompt, { settings: { ...settings, contextPolicy: 'truncate', logitBias: [{ token: String(model.info.eosId), bias: 'ban' }, { token: String(model.info.bosId), bias: 'ban' }] } });
    assert.equal(cut.stats.stopReason, 'context_full');
    assert.equal(cut.stats.completionTokens, 48 - prompt.length + 1);
  } finally {
    ctx.dispose();
    model.dispose();
  }
});
