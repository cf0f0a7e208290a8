// Ghost Attention's instruction builder (Llama 2 sec. 3.3): constraints drawn from lists (hobbies,
// languages, public figures, sign-off words, the user's own), randomly combined, half of them
// shortened ("Always act as Napoleon" -> "Figure: Napoleon"), seeded so a synthesis is repeatable.
// Each constraint that a program can check carries its check, for the adherence eval.
import type { ConstraintKind, GattInstruction, GattInstructionOptions, InstructionCheck } from '../../../shared/contract-gatt';
import { Xoshiro128 } from '../../../engine/train/data-order';

export interface Constraint {
  kind: ConstraintKind;
  /** "Always act as Napoleon." */
  long: string;
  /** "Figure: Napoleon" */
  short: string;
  check: InstructionCheck | null;
}

export const HOBBIES = ['tennis', 'painting', 'gardening', 'chess', 'cooking', 'hiking', 'photography', 'playing the guitar', 'baking', 'swimming'];
/** Languages the language check (adherence.ts) can tell apart. */
export const LANGUAGES = { French: 'fr', Spanish: 'es', German: 'de', Italian: 'it', English: 'en' } as const;
export const FIGURES = ['Napoleon', 'Cleopatra', 'Shakespeare', 'Albert Einstein', 'Marie Curie', 'Sherlock Holmes', 'Julius Caesar', 'Ada Lovelace'];
/** Short words a 512-token TinyStories vocabulary spells in few pieces (the demo's task). */
export const SIGNOFFS = ['cat', 'dog', 'sun', 'tree', 'ball', 'cake', 'bird', 'fish'];

export function hobby(name: string): Constraint {
  // A hobby shapes the replies' content but no program can tell whether a reply "enjoys tennis".
  return { kind: 'hobby', long: `You enjoy ${name}.`, short: `Hobby: ${name}`, check: null };
}

export function language(name: keyof typeof LANGUAGES): Constraint {
  return { kind: 'language', long: `Always answer in ${name}.`, short: `Language: ${name}`, check: { kind: 'language', value: LANGUAGES[name] } };
}

export function figure(name: string): Constraint {
  // The persona's keyword: its last name ("Einstein"), which an in-character reply drops.
  const keyword = name.split(' ').pop() as string;
  return { kind: 'figure', long: `Always act as ${name}.`, short: `Figure: ${name}`, check: { kind: 'keyword', value: keyword } };
}

export function signoff(word: string): Constraint {
  return { kind: 'signoff', long: `Always end your reply with the word ${word}.`, short: `Sign-off: ${word}`, check: { kind: 'phrase', value: word } };
}

export function custom(text: string): Constraint {
  return { kind: 'custom', long: text.trim(), short: text.trim(), check: null };
}

/** Every constraint of one kind. */
export function constraintsOf(kind: ConstraintKind, customTexts: string[] = []): Constraint[] {
  switch (kind) {
    case 'hobby':
      return HOBBIES.map(hobby);
    case 'language':
      return (Object.keys(LANGUAGES) as (keyof typeof LANGUAGES)[]).map(language);
    case 'figure':
      return FIGURES.map(figure);
    case 'signoff':
      return SIGNOFFS.map(signoff);
    case 'custom':
      return customTexts.filter((t) => t.trim()).map(custom);
  }
}

/** One instruction from constraints: long forms joined by spaces, short forms by newlines. */
export function combine(constraints: Constraint[], shortened: boolean): GattInstruction {
  const checks = constraints.flatMap((c) => (c.check ? [c.check] : []));
  const long = constraints.map((c) => c.long).join(' ');
  return { text: shortened ? constraints.map((c) => c.short).join('\n') : long, long, check: checks[0] ?? null, checks };
}

/**
 * Draws instructions: each combines 1..maxCombined constraints of different kinds (two languages
 * would contradict each other), and is shortened with probability `shortenShare`.
 */
export class InstructionBuilder {
  private readonly rng: Xoshiro128;
  private readonly pools: Constraint[][];

  constructor(private readonly opts: GattInstructionOptions) {
    this.rng = Xoshiro128.fromSeed(opts.seed);
    this.pools = [...new Set(opts.kinds)].map((k) => constraintsOf(k, opts.custom)).filter((p) => p.length > 0);
    if (!this.pools.length) throw new RangeError(`no constraints to draw from: kinds ${opts.kinds.join(', ')}${opts.kinds.includes('custom') ? ' (custom list empty)' : ''}`);
  }

  next(): GattInstruction {
    const kinds = [...this.pools];
    const n = 1 + this.rng.below(Math.min(this.opts.maxCombined, kinds.length));
    const picked: Constraint[] = [];
    for (let i = 0; i < n; i++) {
      const [pool] = kinds.splice(this.rng.below(kinds.length), 1);
      picked.push(pool[this.rng.below(pool.length)]);
    }
    const shortened = this.rng.nextU32() / 2 ** 32 < this.opts.shortenShare;
    return combine(picked, shortened);
  }

  take(count: number): GattInstruction[] {
    return Array.from({ length: count }, () => this.next());
  }
}
