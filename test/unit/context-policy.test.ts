// The context-full policy in the engine's generation loop, over a fake model and context:
// `truncate` fits the prompt by dropping whole old turns (the system turn stays) and stops when
// the KV cache fills; `shift` discards the oldest half after the kept prefix and goes on, and
// falls back to stopping with 'context_full' when the native context can't shift.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Addon, NativeContext, NativeModel, NativeSamplerOptions } from '../../electron/engine/addon';
import { CachedContext, fitPrompt, generate } from '../../electron/engine/generate';
import type { GenerationSettings } from '../../electron/shared/engine-protocol';

const VOCAB = 16;
const BOS = 1;

/** A context that records its cache like the native one: positions, truncate, optional shift. */
function fakeContext(contextLength: number, canShift: boolean) {
  const held: number[] = [];
  const shifts: [number, number][] = [];
  const ctx: NativeContext = {
    contextLength,
    get position() {
      return held.length;
    },
    async decode(tokens) {
      if (held.length + tokens.length > contextLength) throw new Error(`KV cache overflow: ${held.length} + ${tokens.length}`);
      held.push(...tokens);
      const logits = new Float32Array(VOCAB);
      logits[(held.length % 10) + 3] = 5; // a token that is never EOS/BOS
      return logits;
    },
    truncate(p) {
      held.length = p;
    },
    dispose() {},
    ...(canShift && {
      shift(keep: number, discard: number) {
        shifts.push([keep, discard]);
        held.splice(keep, discard);
      },
    }),
  };
  return { ctx, held, shifts };
}

const model = {
  info: { bosId: BOS, eosId: 2, vocabSize: VOCAB },
  isEog: (id: number) => id === 2,
  tokenBytes: () => new Uint8Array([0x61]),
  tokenize: () => new Int32Array(0),
} as unknown as NativeModel;

function greedyAddon(seen: NativeSamplerOptions[] = []): Addon {
  return {
    createSampler(o: NativeSamplerOptions) {
      seen.push(o);
      return {
        sample: (l: Float32Array) => l.indexOf(Math.max(...l)),
        accept() {},
      };
    },
  } as unknown as Addon;
}

const settings = (s: Partial<GenerationSettings>): GenerationSettings => ({ temperature: 0, topP: 1, topK: 0, maxTokens: 40, seed: 1, stop: [], ...s });

test('truncate: stops with context_full when the cache fills', async () => {
  const { ctx } = fakeContext(32, true);
  const prompt = Int32Array.from({ length: 10 }, (_, i) => (i ? 4 : BOS));
  const r = await generate(greedyAddon(), model, new CachedContext(ctx), prompt, { settings: settings({ contextPolicy: 'truncate' }) });
  assert.equal(r.stats.stopReason, 'context_full');
  assert.equal(r.stats.contextShifts, 0);
  assert.equal(r.stats.contextPolicy, 'truncate');
  assert.equal(r.stats.completionTokens, 32 - 10 + 1);
});

test('shift: keeps the prefix, discards half of the rest, and reaches max tokens', async () => {
  const { ctx, held, shifts } = fakeContext(32, true);
  const prompt = Int32Array.from({ length: 10 }, (_, i) => (i ? 4 : BOS));
  const r = await generate(greedyAddon(), model, new CachedContext(ctx), prompt, {
    settings: settings({ contextPolicy: 'shift', maxTokens: 60 }),
    layout: { keep: 3, turnStarts: [] },
  });
  assert.equal(r.stats.stopReason, 'max_tokens');
  assert.equal(r.stats.completionTokens, 60);
  assert.ok(r.stats.contextShifts >= 2, `shifts: ${r.stats.contextShifts}`);
  assert.deepEqual(shifts[0], [3, Math.floor((32 - 3) / 2)]);
  assert.equal(r.stats.shiftedTokens, shifts.reduce((a, [, d]) => a + d, 0));
  assert.deepEqual(held.slice(0, 3), [BOS, 4, 4], 'the kept prefix is untouched');
});

test('shift without a native ctx.shift: stops with context_full instead of failing', async () => {
  const { ctx } = fakeContext(32, false);
  const prompt = Int32Array.from({ length: 10 }, (_, i) => (i ? 4 : BOS));
  const r = await generate(greedyAddon(), model, new CachedContext(ctx), prompt, { settings: settings({ contextPolicy: 'shift' }) });
  assert.equal(r.stats.stopReason, 'context_full');
  assert.equal(r.stats.contextShifts, 0);
});

test('sampling options reach the native sampler, logit bias resolved to ids', async () => {
  const seen: NativeSamplerOptions[] = [];
  const { ctx } = fakeContext(64, false);
  const biasModel = { ...model, tokenize: (t: string) => Int32Array.from(t === '<x>' ? [7] : [8, 9]) } as unknown as NativeModel;
  await generate(greedyAddon(seen), biasModel, new CachedContext(ctx), Int32Array.of(BOS, 4), {
    settings: settings({
      maxTokens: 1, minP: 0.2, repeatPenalty: 1.2, frequencyPenalty: 0.3, presencePenalty: 0.4, penaltyLastN: 16,
      logitBias: [{ token: '5', bias: 1 }, { token: '<x>', bias: 'ban' }, { token: 'ab', bias: -2 }],
    }),
  });
  assert.deepEqual(seen[0], {
    temperature: 0, topP: 1, topK: 0, minP: 0.2, repeatPenalty: 1.2, frequencyPenalty: 0.3, presencePenalty: 0.4, penaltyLastN: 16,
    logitBias: [[5, 1], [7, -Infinity], [8, -2], [9, -2]], seed: 1,
  });
  await assert.rejects(
    generate(greedyAddon(), model, new CachedContext(fakeContext(64, false).ctx), Int32Array.of(BOS), {
      settings: settings({ logitBias: [{ token: '999', bias: 1 }] }),
    }),
    /outside the vocabulary/,
  );
});

test('fitPrompt drops whole old turns and keeps the system turn; falls back to the newest tokens', () => {
  const tokens = Int32Array.from({ length: 100 }, (_, i) => i);
  // room = 64 - min(16, 32) = 48; keep 10 + tail from the first cut that fits (100 - 62 = 38).
  const fit = fitPrompt(tokens, 64, 16, 0, { keep: 10, turnStarts: [30, 50, 62, 90] });
  assert.deepEqual(Array.from(fit.tokens), [...Array.from({ length: 10 }, (_, i) => i), ...Array.from({ length: 38 }, (_, i) => 62 + i)]);
  assert.equal(fit.dropped, 52);
  assert.equal(fit.keep, 10);
  // No cut fits: the newest tokens after the kept prefix.
  const tight = fitPrompt(tokens, 64, 16, 0, { keep: 10, turnStarts: [30] });
  assert.equal(tight.tokens.length, 48);
  assert.equal(tight.tokens[10], 100 - 38);
  // A system turn longer than the room: only BOS is kept (token 0 plays BOS here).
  const hugeSystem = fitPrompt(tokens, 64, 16, 0, { keep: 60, turnStarts: [70] });
  assert.equal(hugeSystem.keep, 1);
  assert.deepEqual(Array.from(hugeSystem.tokens.subarray(0, 2)), [0, 70], "BOS, then the turn cut that fits");
  // Fits already: unchanged.
  assert.equal(fitPrompt(tokens, 256, 16, 0).dropped, 0);
});
