// GAtt's instruction builder (seeded lists, combined, half shortened) and the adherence checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GattInstructionOptions } from '../../electron/shared/contract-gatt';
import { InstructionBuilder, combine, figure, hobby, language, signoff } from '../../electron/core/training/gatt/instructions';
import { adherenceDialogues, adherencePerTurn, detectLanguage, obeys, passes } from '../../electron/core/training/gatt/adherence';

const opts = (o: Partial<GattInstructionOptions> = {}) => GattInstructionOptions.parse(o);

test('the paper\'s constraints in long and short form, each with its machine check where one exists', () => {
  assert.deepEqual(figure('Napoleon'), { kind: 'figure', long: 'Always act as Napoleon.', short: 'Figure: Napoleon', check: { kind: 'keyword', value: 'Napoleon' } });
  assert.deepEqual(hobby('tennis'), { kind: 'hobby', long: 'You enjoy tennis.', short: 'Hobby: tennis', check: null });
  assert.deepEqual(language('French'), { kind: 'language', long: 'Always answer in French.', short: 'Language: French', check: { kind: 'language', value: 'fr' } });
  assert.equal(figure('Albert Einstein').check?.value, 'Einstein', 'a persona\'s keyword is its last name');
  const both = combine([figure('Napoleon'), language('French')], true);
  assert.equal(both.text, 'Figure: Napoleon\nLanguage: French');
  assert.equal(both.long, 'Always act as Napoleon. Always answer in French.');
  assert.deepEqual(both.checks.map((c) => c.kind), ['keyword', 'language']);
  assert.equal(combine([hobby('chess')], false).check, null);
});

test('the builder is seeded, combines 1..maxCombined constraints of different kinds and shortens about half', () => {
  const a = new InstructionBuilder(opts({ seed: 7, maxCombined: 3 })).take(400);
  assert.deepEqual(new InstructionBuilder(opts({ seed: 7, maxCombined: 3 })).take(400), a, 'same seed, same instructions');
  assert.notDeepEqual(new InstructionBuilder(opts({ seed: 8, maxCombined: 3 })).take(400), a);
  const sizes = a.map((i) => i.long.split('. ').length);
  assert.deepEqual([...new Set(sizes)].sort(), [1, 2, 3]);
  const short = a.filter((i) => i.text !== i.long).length;
  assert.ok(short > 150 && short < 250, `about half shortened: ${short} of 400`);
  for (const i of a) {
    assert.ok(!/answer in .*answer in/.test(i.long), `never two languages: ${i.long}`);
    if (i.text !== i.long) assert.match(i.text, /^(Hobby|Language|Figure): /);
  }
  const none = new InstructionBuilder(opts({ shortenShare: 0 })).take(20);
  assert.ok(none.every((i) => i.text === i.long));
});

test('custom constraints are the user\'s own text; an empty selection is refused with the reason', () => {
  const mine = new InstructionBuilder(opts({ kinds: ['custom'], custom: ['Speak like a pirate.'], shortenShare: 1 })).take(3);
  assert.deepEqual(mine.map((i) => i.text), ['Speak like a pirate.', 'Speak like a pirate.', 'Speak like a pirate.']);
  assert.throws(() => new InstructionBuilder(opts({ kinds: ['custom'] })), /custom list empty/);
});

test('checks: language by function words, sign-off phrase at the end as whole words, persona keyword', () => {
  assert.equal(detectLanguage('Je suis très content, merci pour la question.'), 'fr');
  assert.equal(detectLanguage('Estoy muy bien, gracias por preguntar.'), 'es');
  assert.equal(detectLanguage('Ich bin sehr müde und die Katze auch.'), 'de');
  assert.equal(detectLanguage('The dog is in the garden.'), 'en');
  assert.equal(detectLanguage('12345'), null);
  assert.ok(passes('Bonjour ! Je vais très bien.', { kind: 'language', value: 'fr' }));
  assert.ok(!passes('I am fine, thank you.', { kind: 'language', value: 'fr' }));
  assert.ok(passes('The ball went up high. Cat!', { kind: 'phrase', value: 'cat' }));
  assert.ok(passes('I saw it, cat', { kind: 'phrase', value: 'cat' }));
  assert.ok(!passes('I saw a bobcat.', { kind: 'phrase', value: 'cat' }), 'whole words only');
  assert.ok(!passes('cat. I like dogs.', { kind: 'phrase', value: 'cat' }), 'at the end only');
  assert.ok(passes('As Napoleon, I say: forward!', { kind: 'keyword', value: 'Napoleon' }));
  assert.ok(!passes('Forward, soldiers!', { kind: 'keyword', value: 'Napoleon' }));
  const both = combine([figure('Napoleon'), signoff('sun')], false);
  assert.ok(obeys('I am Napoleon and I love the sun.', both));
  assert.ok(!obeys('I am Napoleon.', both), 'a combined instruction needs every check');
  assert.throws(() => obeys('x', combine([hobby('chess')], false)), /no machine check/);
});

test('adherence per turn: share of replies obeying at turn k; dialogues are seeded', () => {
  const inst = combine([signoff('dog')], true);
  const dialogues = adherenceDialogues([inst, inst], 3, 5);
  assert.deepEqual(adherenceDialogues([inst, inst], 3, 5), dialogues);
  assert.equal(dialogues[0].system, 'Sign-off: dog');
  assert.equal(dialogues[0].users.length, 3);
  assert.ok(dialogues.every((d) => d.users.every((u) => !u.includes('Sign-off') && !u.includes(inst.long))), 'the instruction only in the system message');
  const table = adherencePerTurn(
    [
      { instruction: inst, replies: ['Yes. Dog.', 'No dog here', 'Fine, dog'] },
      { instruction: inst, replies: ['dog', 'cat'] },
    ],
    3,
  );
  assert.deepEqual(table, [
    { turn: 1, obeyed: 2, total: 2, share: 1 },
    { turn: 2, obeyed: 0, total: 2, share: 0 },
    { turn: 3, obeyed: 1, total: 1, share: 1 },
  ]);
});
