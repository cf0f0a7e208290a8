// The native sampler through the binding: every option is read, logit bias pairs (-Infinity
// bans), penalties see the tokens given to accept(), and bad options are coded errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadAddon, type NativeError, type NativeSamplerOptions } from '../../electron/engine/addon';

const greedy = (o: Partial<NativeSamplerOptions> = {}) => loadAddon().createSampler({ temperature: 0, topP: 1, topK: 0, seed: 0, ...o });
const logits = Float32Array.of(3, 2, -1, -1.5);

test('logit bias: added to the logits, -Infinity bans', () => {
  assert.equal(greedy().sample(logits), 0);
  assert.equal(greedy({ logitBias: [[0, -Infinity]] }).sample(logits), 1);
  assert.equal(greedy({ logitBias: [[3, 10]] }).sample(logits), 3);
});

test('penalties apply to accepted tokens within the window', () => {
  const rep = greedy({ repeatPenalty: 2 });
  assert.equal(rep.sample(logits), 0);
  rep.accept(0);
  assert.equal(rep.sample(logits), 1, '3 / 2 < 2');
  const freq = greedy({ frequencyPenalty: 0.6 });
  freq.accept(0);
  assert.equal(freq.sample(logits), 0);
  freq.accept(0);
  assert.equal(freq.sample(logits), 1, '3 - 2 x 0.6 < 2');
  const pres = greedy({ presencePenalty: 1.1, penaltyLastN: 1 });
  pres.accept(0);
  assert.equal(pres.sample(logits), 1);
  pres.accept(3); // 0 leaves the one-token window
  assert.equal(pres.sample(logits), 0);
});

test('min-p and a seed: the same draws for the same seed, only tokens above the floor', () => {
  const draws = (seed: number) => {
    const s = loadAddon().createSampler({ temperature: 1, topP: 1, topK: 0, minP: 0.3, seed });
    return Array.from({ length: 300 }, () => s.sample(logits));
  };
  assert.deepEqual(draws(9), draws(9));
  assert.ok(draws(9).every((t) => t === 0 || t === 1));
});

test('bad options are INVALID_ARGUMENT errors', () => {
  const bad = (o: Partial<NativeSamplerOptions>) =>
    assert.throws(() => greedy(o), (e: NativeError) => e.code === 'INVALID_ARGUMENT', JSON.stringify(o));
  bad({ minP: 1.5 });
  bad({ repeatPenalty: 0 });
  bad({ penaltyLastN: -1 });
  bad({ penaltyLastN: 1.5 });
  bad({ logitBias: [[-1, 1]] });
  bad({ logitBias: [[1, Infinity]] });
  bad({ logitBias: [1, 2] as unknown as [number, number][] });
  assert.throws(() => greedy().accept(-1), (e: NativeError) => e.code === 'INVALID_ARGUMENT');
});
