// Validation of dataset rows: each row-local problem code, exact / near duplicates and
// contamination on known pairs (and a pair at Jaccard ~0.5 that must stay clean), token counts
// and too_long through the engine's tokenizeSamples (scripted here; the real engine is tested in
// test/integration/dataset-engine.test.ts), the mask preview's shape, and 50K rows timed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rowProblems } from '../../electron/core/datasets/row-problems';
import { sampleProblems } from '../../electron/core/datasets/sample-problems';
import { validateDataset, type RowForValidation } from '../../electron/core/datasets/validate-dataset';
import { findDuplicates, normalizedKey } from '../../electron/core/datasets/duplicates';
import { NUM_HASHES, rowsPerBand, shingleHashes } from '../../electron/core/datasets/minhash';
import { maskPreview } from '../../electron/core/datasets/mask-preview';
import { FakeEngine } from '../../electron/core/engine/fake-engine';
import type { TokenizeSamplesParams } from '../../electron/shared/engine-protocol-datasets';
import type { DatasetMessage, DatasetSplit, ModelRecordLike } from '../../electron/core/datasets/validation-types';

const u = (content: string): DatasetMessage => ({ role: 'user', content, train: true });
const a = (content: string): DatasetMessage => ({ role: 'assistant', content, train: true });
const s = (content: string): DatasetMessage => ({ role: 'system', content, train: true });

test('rowProblems: every row-local code on hand-made rows, and clean rows stay clean', () => {
  assert.deepEqual(rowProblems('chat', [s('Be brief.'), u('Hi'), a('Hello'), u('Bye'), a('Bye!')]), []);
  assert.deepEqual(rowProblems('chat', [u('Hi'), a('Hello')]), []);
  assert.deepEqual(rowProblems('chat', [u('Hi')]), ['no_assistant_turn']);
  assert.deepEqual(rowProblems('chat', [s('sys only')]), ['no_assistant_turn']);
  assert.deepEqual(rowProblems('chat', [u('Hi'), a('  \n')]), ['empty_reply']);
  assert.deepEqual(rowProblems('chat', [s(''), u('Hi'), a('Hello')]), ['empty_message']);
  assert.deepEqual(rowProblems('chat', [u(' '), a('Hello')]), ['empty_message']);
  assert.deepEqual(rowProblems('chat', [a('Hello'), u('Hi')]), ['roles_out_of_order']);
  assert.deepEqual(rowProblems('chat', [u('Hi'), u('Hi again'), a('Hello')]), ['roles_out_of_order']);
  assert.deepEqual(rowProblems('chat', [u('Hi'), a('Hello'), s('late system')]), ['roles_out_of_order']);
  assert.deepEqual(rowProblems('chat', [u('Hi'), a('Hello'), u('And?')]), ['ends_with_user']);
  // Several at once, in the contract's order.
  assert.deepEqual(rowProblems('chat', [u(''), u('x')]), ['no_assistant_turn', 'empty_message', 'roles_out_of_order']);
  // Completions may have an empty prompt; only the trained text can be missing. Text rows likewise.
  assert.deepEqual(rowProblems('completion', [u(''), a('continues')]), []);
  assert.deepEqual(rowProblems('completion', [u('Once'), a(' ')]), ['empty_reply']);
  assert.deepEqual(rowProblems('text', [a('Once upon a time')]), []);
  assert.deepEqual(rowProblems('text', [a('')]), ['empty_reply']);
});

test('sampleProblems words the same rules (one set of rules for import and validation)', () => {
  assert.deepEqual(sampleProblems({ kind: 'chat', messages: [{ role: 'user', content: 'hi' }] }), ['no assistant turn']);
  assert.deepEqual(sampleProblems({ kind: 'chat', messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }, { role: 'user', content: 'q2' }] }), ['ends with a user turn']);
  assert.deepEqual(sampleProblems({ kind: 'text', text: ' ' }), ['empty text']);
  assert.deepEqual(sampleProblems({ kind: 'completion', prompt: 'p', completion: '' }), ['empty completion']);
  assert.deepEqual(sampleProblems({ kind: 'completion', prompt: '', completion: 'c' }), []);
});

// --- duplicates -------------------------------------------------------------------------------

let seed = 7;
const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
const VOCAB = Array.from({ length: 4000 }, (_, i) => `w${i.toString(36)}q`);
const words = (n: number) => Array.from({ length: n }, () => VOCAB[Math.floor(rnd() * VOCAB.length)]);

/** Exact Jaccard similarity of two texts' shingle sets (what MinHash estimates). */
function jaccard(x: string, y: string): number {
  const A = new Set(shingleHashes(x));
  const B = new Set(shingleHashes(y));
  let inter = 0;
  for (const h of A) if (B.has(h)) inter++;
  return inter / (A.size + B.size - inter);
}

const row = (id: string, question: string, answer: string, split: DatasetSplit | null = null): RowForValidation => ({
  id, kind: 'chat', split, messages: [u(question), a(answer)],
});

test('duplicates: exact (normalized) and near duplicates flag only the later row; a pair at Jaccard ~0.5 is not flagged', async () => {
  const base = words(200);
  const near = [...base];
  near[60] = 'changedone';
  near[140] = 'changedtwo'; // two words changed: 10 of 196 shingles differ
  const half = [...base.slice(0, 132), ...words(68)]; // shares about two thirds of its shingles
  const q = words(12).join(' ');
  const rows = [
    row('a', q, base.join(' ')),
    row('b', words(12).join(' '), words(150).join(' ')),
    row('c', q, near.join(' ')),
    row('d', `  ${q.toUpperCase()} `, base.join('  ')), // same text up to case and whitespace
    row('e', q, half.join(' ')),
  ];
  const jNear = jaccard(rows[0].messages.map((m) => m.content).join('\n'), rows[2].messages.map((m) => m.content).join('\n'));
  const jHalf = jaccard(rows[0].messages.map((m) => m.content).join('\n'), rows[4].messages.map((m) => m.content).join('\n'));
  assert.ok(jNear > 0.88 && jNear < 0.93, `the near pair's Jaccard is ${jNear}`);
  assert.ok(jHalf > 0.45 && jHalf < 0.55, `the half pair's Jaccard is ${jHalf}`);

  const flags = await findDuplicates(rows, 0.8);
  assert.deepEqual(flags.map((f) => [f.duplicate, f.nearDuplicate]), [
    [false, false], // a: the first of its kind stays clean
    [false, false],
    [false, true], // c: near duplicate of a
    [true, false], // d: exact duplicate of a (normalized), not also "near"
    [false, false], // e: Jaccard ~0.5 with a: not a near duplicate at 0.8
  ]);
  // The threshold is honoured: at 0.95 the ~0.9 pair is no longer flagged; at 0.5 the half pair may be.
  assert.equal((await findDuplicates(rows, 0.95))[2].nearDuplicate, false);
  assert.equal(rows.length, 5);
});

test('contamination: a validation/test row that duplicates or nearly duplicates a train row is flagged, wherever the train row is', async () => {
  const t1 = words(120).join(' ');
  const t2 = words(120);
  const t2near = [...t2];
  t2near[50] = 'different';
  const v = words(120).join(' ');
  const vnear = v.replace(/^(\S+ \S+ \S+)/, '$1 inserted');
  const rows = [
    row('v1', 'q', t1, 'validation'), // exact copy of a LATER train row
    row('x', 'q', words(80).join(' '), 'train'),
    row('t1', 'q', t1, 'train'),
    row('t2', 'q', t2.join(' '), 'train'),
    row('v2', 'q', t2near.join(' '), 'test'), // near copy of an earlier train row
    row('v3', 'q', v, 'validation'),
    row('v4', 'q', vnear, 'validation'), // near copy of another validation row: near_duplicate only
    row('n1', 'q', t1, null), // unsplit copy: duplicate, but not contamination
  ];
  const flags = await findDuplicates(rows, 0.8);
  const got = Object.fromEntries(rows.map((r, i) => [r.id, Object.entries(flags[i]).filter(([, on]) => on).map(([k]) => k)]));
  assert.deepEqual(got, {
    v1: ['contamination'],
    x: [],
    t1: ['duplicate'],
    t2: [],
    v2: ['nearDuplicate', 'contamination'],
    v3: [],
    v4: ['nearDuplicate'],
    n1: ['duplicate'],
  });
});

test('shingles ignore case and punctuation and keep non-ASCII words whole; the exact key keeps message boundaries and roles', () => {
  assert.deepEqual(shingleHashes('Élève, du CAFÉ! 42 fois... très bien'), shingleHashes('élève du café 42 fois très bien'));
  assert.notDeepEqual(shingleHashes('élève du café 42 fois très bien'), shingleHashes('eleve du cafe 42 fois tres bien'));
  assert.equal(shingleHashes('один два три четыре пять шесть').length, 2, 'six Cyrillic words: two 5-word shingles');
  assert.equal(shingleHashes('hi').length, 1, 'a text shorter than a shingle is one shingle');
  assert.equal(shingleHashes(' ...!? ').length, 0);
  assert.equal(normalizedKey([u('Hello  World '), a('OK')]), normalizedKey([u(' hello world'), a('ok')]));
  assert.notEqual(normalizedKey([u('ab'), a('c')]), normalizedKey([u('a'), a('bc')]));
  assert.notEqual(normalizedKey([u('hello'), a('ok')]), normalizedKey([s('hello'), a('ok')]));
  assert.notEqual(normalizedKey([u('hello world'), a('ok')]), normalizedKey([u('helloworld'), a('ok')]));
});

test('rows without words are never near duplicates of each other (only exact ones)', async () => {
  const flags = await findDuplicates([row('a', '', '...'), row('b', '?', '!'), row('c', '', '...')], 0.8);
  assert.deepEqual(flags.map((f) => [f.duplicate, f.nearDuplicate]), [[false, false], [false, false], [true, false]]);
});

test('LSH banding catches a pair at the threshold with probability >= 0.99 (and uses the widest such band)', () => {
  for (const t of [0.5, 0.7, 0.8, 0.9, 0.95]) {
    const r = rowsPerBand(t);
    const b = NUM_HASHES / r;
    assert.ok(1 - (1 - t ** r) ** b >= 0.99, `threshold ${t}: ${b} bands of ${r}`);
    if (r * 2 <= NUM_HASHES) assert.ok(1 - (1 - t ** (r * 2)) ** (b / 2) < 0.99, `threshold ${t}: a wider band would miss pairs`);
  }
  assert.equal(rowsPerBand(0.8), 4);
});

// --- validateDataset with a model ---------------------------------------------------------------

const MODEL: ModelRecordLike = {
  id: 'm1', path: '/models/m.gguf', tokenizerPath: null, contextLength: 40,
  chatTemplate: { id: 'chatml', name: 'ChatML (plain text)', fromModelFile: false, source: null, example: '' },
};

/** A scripted tokenizeSamples: one token per word plus 3, and a refusal for samples that mention "refuse". */
function scriptedEngine(calls: TokenizeSamplesParams[]) {
  return new FakeEngine({
    methods: {
      tokenizeSamples: async (p) => {
        calls.push(p);
        return {
          template: 'ChatML (plain text)',
          rows: p.samples.map((smp) => {
            const text = smp.kind === 'chat' ? smp.messages.map((m) => m.content).join(' ') : smp.kind === 'text' ? smp.text : `${smp.prompt} ${smp.completion}`;
            if (text.includes('refuse')) return { count: 0, error: 'Conversation roles must alternate' };
            const count = text.split(/\s+/).filter(Boolean).length + 3;
            return p.detail ? { count, tokens: [...Array(count).keys()], pieces: Array(count).fill('x'), weights: Array(count).fill(1) } : { count };
          }),
        };
      },
    },
  });
}

test('validateDataset: token counts in batches of 256 with progress, too_long against the model context or maxTokens, problem counts', async () => {
  const rows: RowForValidation[] = Array.from({ length: 600 }, (_, i) => row(`r${i}`, `question ${i}`, words(i % 50).join(' ')));
  rows[10] = row('r10', 'please refuse', 'x');
  rows[11] = { id: 'r11', kind: 'chat', split: null, messages: [u('only a question')] };
  const calls: TokenizeSamplesParams[] = [];
  const progress: [number, number][] = [];
  const out = await validateDataset(rows, { engine: scriptedEngine(calls), model: MODEL, nearDuplicateThreshold: 0.8, onProgress: (d, t) => progress.push([d, t]) });
  assert.deepEqual(calls.map((c) => c.samples.length), [256, 256, 88]);
  assert.ok(calls.every((c) => c.modelPath === MODEL.path && c.tokenizerPath === null && !c.detail));
  assert.deepEqual(progress, [[256, 600], [512, 600], [600, 600]]);
  assert.equal(out.maxTokens, 40, "the model's context by default");
  assert.equal(out.tokens?.get('r0'), 2 + 0 + 3);
  assert.equal(out.tokens?.get('r49'), 2 + 49 + 3);
  assert.equal(out.tokens?.has('r10'), false, 'a refused row has no count');
  assert.equal(out.tokenErrors?.get('r10'), 'Conversation roles must alternate');
  // too_long: count > 40, i.e. more than 35 words in the reply (36..49 of every 50 rows, minus row 10/11's).
  const tooLong = rows.filter((r) => out.problems.get(r.id)!.includes('too_long')).map((r) => r.id);
  assert.equal(tooLong.length, 12 * 14 - 0);
  assert.ok(tooLong.includes('r36') && !tooLong.includes('r35'));
  assert.deepEqual(out.problems.get('r11'), ['no_assistant_turn']);
  assert.equal(out.counts?.too_long, tooLong.length);
  assert.equal(out.counts?.no_assistant_turn, 1);
  // Rows 0, 50, 100 ... have an empty reply (0 words) and questions that differ: only empty_reply.
  assert.deepEqual(out.problems.get('r50'), ['empty_reply']);

  const strict = await validateDataset(rows, { engine: scriptedEngine([]), model: MODEL, maxTokens: 10, nearDuplicateThreshold: 0.8 });
  assert.equal(strict.maxTokens, 10);
  assert.ok(strict.problems.get('r8')!.includes('too_long') && !strict.problems.get('r5')!.includes('too_long'));
});

test('validateDataset without a model: no token counts, no engine call, duplicates still found', async () => {
  const calls: TokenizeSamplesParams[] = [];
  const text = words(40).join(' ');
  const out = await validateDataset([row('a', 'q', text), row('b', 'q', text)], { engine: scriptedEngine(calls), model: null, nearDuplicateThreshold: 0.8 });
  assert.equal(calls.length, 0);
  assert.equal(out.tokens, null);
  assert.equal(out.maxTokens, null);
  assert.deepEqual(out.problems.get('b'), ['duplicate']);
  assert.deepEqual(out.problems.get('a'), []);
});

test('maskPreview: the row goes to the engine as a training sample with detail; a refused row is a clear error', async () => {
  const calls: TokenizeSamplesParams[] = [];
  const engine = scriptedEngine(calls);
  const preview = await maskPreview(engine, MODEL, { kind: 'completion', messages: [u('Once upon'), a('a time')] }, 'last');
  assert.deepEqual(calls[0].samples, [{ kind: 'completion', prompt: 'Once upon', completion: 'a time' }]);
  assert.equal(calls[0].mode, 'last');
  assert.equal(calls[0].detail, true);
  assert.deepEqual(preview, { modelId: 'm1', template: 'ChatML (plain text)', mode: 'last', tokens: [0, 1, 2, 3, 4, 5, 6], pieces: Array(7).fill('x'), weights: Array(7).fill(1) });
  await assert.rejects(maskPreview(engine, MODEL, { kind: 'chat', messages: [u('refuse'), a('x')] }, 'all'), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'BAD_REQUEST');
    assert.match(err.message, /m1's chat template \(ChatML \(plain text\)\): Conversation roles must alternate/);
    return true;
  });
});

test('50,000 generated rows validate in a few seconds (duplicates and contamination included)', async (t) => {
  const rows: RowForValidation[] = Array.from({ length: 50_000 }, (_, i) =>
    row(`g${i}`, words(20 + (i % 40)).join(' '), words(40 + (i % 80)).join(' '), i % 10 === 0 ? 'validation' : 'train'),
  );
  // Known copies: every 1000th row repeats an earlier one exactly, every 1000th + 1 nearly.
  for (let i = 1000; i < rows.length; i += 1000) {
    rows[i] = { ...rows[i - 499], id: `g${i}`, split: rows[i].split }; // a train row copied into validation
    // A 150-word reply with one word changed: Jaccard ~0.94, well clear of the estimate's noise at 0.8.
    const source = rows[i - 400];
    const reply = words(150);
    source.messages = [source.messages[0], a(reply.join(' '))];
    reply[75] = 'zzz';
    rows[i + 1] = { ...source, id: `g${i + 1}`, messages: [source.messages[0], a(reply.join(' '))] };
  }
  const t0 = performance.now();
  const out = await validateDataset(rows, { engine: new FakeEngine(), model: null, nearDuplicateThreshold: 0.8 });
  const ms = performance.now() - t0;
  t.diagnostic(`50,000 rows (${rows.reduce((n, r) => n + r.messages[0].content.split(' ').length + r.messages[1].content.split(' ').length, 0)} words) validated in ${ms.toFixed(0)} ms`);
  assert.equal(out.counts?.duplicate, 49);
  assert.equal(out.counts?.near_duplicate, 49);
  assert.equal(out.counts?.contamination, 49, 'rows 1000, 2000, ... are validation rows copying train rows; the near copies are of validation rows');
  assert.ok(ms < 30_000, `took ${ms} ms`);
});
