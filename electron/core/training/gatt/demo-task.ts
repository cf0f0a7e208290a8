// The synthetic task of the GAtt demonstration (`paddock gatt-demo`): one a model of 260K
// parameters can learn. The instruction is a sign-off word (one of SIGNOFFS) that every reply must
// end with; user turns are short generated sentences in TinyStories' words (none of them a sign-off
// word, so a reply can't obey by echoing the user); replies are a short phrase and the word.
import type { GattInstruction } from '../../../shared/contract-gatt';
import type { DatasetMessage } from '../../../shared/contract-datasets';
import { Xoshiro128 } from '../../../engine/train/data-order';
import type { PlainRow } from '../../datasets/dataset-service';
import { withInstruction } from './gatt-rows';

const NAMES = ['Tom', 'Lily', 'Ben', 'Sue', 'Max', 'Mia', 'Sam', 'Amy', 'Tim', 'Anna'];
const VERBS = ['saw', 'found', 'liked', 'had', 'got', 'lost', 'made', 'wanted'];
const ADJECTIVES = ['big', 'red', 'little', 'happy', 'old', 'blue', 'funny', 'new'];
const NOUNS = ['box', 'hat', 'car', 'toy', 'cup', 'bed', 'boat', 'kite', 'book', 'doll'];
const BODIES = ['I see.', 'Yes!', 'That is fun.', 'Oh, nice.', 'I like it.', 'Tell me more.', 'Wow.', 'Good job.'];

/** Every user sentence of the task, in a fixed order: train and eval draw from disjoint halves. */
export function userSentences(): string[] {
  const out: string[] = [];
  for (const n of NAMES) for (const v of VERBS) for (const a of ADJECTIVES) out.push(`${n} ${v} a ${a} ${NOUNS[(n.length * 7 + v.length * 3 + a.length) % NOUNS.length]}.`);
  for (const n of NAMES) for (const noun of NOUNS) out.push(`Where is the ${noun} of ${n}?`);
  return out;
}

/** Split the sentences by a seeded shuffle: [train, eval]. */
export function splitSentences(seed: number): [string[], string[]] {
  const all = userSentences();
  const rng = Xoshiro128.fromSeed(seed);
  for (let i = all.length - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    [all[i], all[j]] = [all[j], all[i]];
  }
  const half = Math.floor(all.length / 2);
  return [all.slice(0, half), all.slice(half)];
}

export class DemoDialogues {
  private readonly rng: Xoshiro128;
  constructor(
    seed: number,
    private readonly sentences: string[],
  ) {
    this.rng = Xoshiro128.fromSeed(seed);
  }

  users(turns: number): string[] {
    return Array.from({ length: turns }, () => this.sentences[this.rng.below(this.sentences.length)]);
  }

  /** A reply that obeys the sign-off instruction. */
  reply(word: string): string {
    return `${BODIES[this.rng.below(BODIES.length)]} ${word}`;
  }

  /**
   * The SFT row that teaches a tiny model to obey an instruction it sees: 1..maxTurns turns, the
   * instruction's long form appended to every user turn, every reply obeying it, all trained.
   */
  sftRow(instruction: GattInstruction, maxTurns: number): PlainRow {
    const word = instruction.check?.value as string;
    const turns = 1 + this.rng.below(maxTurns);
    const messages: DatasetMessage[] = this.users(turns).flatMap((u) => [
      { role: 'user' as const, content: withInstruction(u, instruction), train: true },
      { role: 'assistant' as const, content: this.reply(word), train: true },
    ]);
    return { kind: 'chat', messages, split: 'train', tags: ['sft'] };
  }
}
