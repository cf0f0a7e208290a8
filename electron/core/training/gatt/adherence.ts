// The system-message adherence eval (Llama 2 fig. 9/10, measured in-app): dialogues of 1..N turns
// whose instruction sits ONLY in the system message, a reply generated at every turn, and the
// share of replies at turn k that obey it. The checks are plain functions of a reply's text.
import type { AdherencePoint, GattInstruction, InstructionCheck } from '../../../shared/contract-gatt';
import { Xoshiro128 } from '../../../engine/train/data-order';
import type { DialogueToSample } from '../../../shared/engine-protocol-gatt';

/** Frequent function words per language: enough to tell a reply's language apart (a few words suffice). */
const STOPWORDS: Record<string, string[]> = {
  en: ['the', 'and', 'is', 'are', 'of', 'to', 'in', 'it', 'you', 'that', 'was', 'for', 'with', 'have', 'this', 'not', 'what', 'my', 'i'],
  fr: ['le', 'la', 'les', 'et', 'est', 'des', 'une', 'un', 'du', 'que', 'je', 'vous', 'nous', 'pas', 'pour', 'dans', 'avec', 'mais', 'ce', 'sur', 'très', 'oui', 'merci', 'bonjour'],
  es: ['el', 'los', 'las', 'y', 'es', 'una', 'que', 'yo', 'usted', 'para', 'con', 'pero', 'muy', 'sí', 'gracias', 'hola', 'por', 'del', 'está', 'como'],
  de: ['der', 'die', 'das', 'und', 'ist', 'ein', 'eine', 'ich', 'sie', 'nicht', 'mit', 'für', 'auf', 'auch', 'sehr', 'danke', 'ja', 'wir', 'es', 'zu'],
  it: ['il', 'lo', 'gli', 'e', 'è', 'una', 'che', 'io', 'non', 'per', 'con', 'ma', 'molto', 'sì', 'grazie', 'ciao', 'sono', 'della', 'questo', 'come'],
};

const words = (text: string): string[] => text.toLowerCase().match(/[\p{L}']+/gu) ?? [];

/** The language (code) whose function words a text uses most, or null when it uses none. */
export function detectLanguage(text: string): string | null {
  const w = words(text);
  let best: string | null = null;
  let bestHits = 0;
  for (const [code, list] of Object.entries(STOPWORDS)) {
    const set = new Set(list);
    const hits = w.filter((x) => set.has(x)).length;
    if (hits > bestHits) [best, bestHits] = [code, hits];
  }
  return best;
}

/** Trailing punctuation, quotes and spaces a sign-off may be followed by. */
const TRAILING = /[\s.!?,;:'"»)\]]+$/u;

export function passes(reply: string, check: InstructionCheck): boolean {
  switch (check.kind) {
    case 'language':
      return detectLanguage(reply) === check.value;
    case 'phrase': {
      // The reply ends with the phrase, as whole words (", cat." ends with "cat"; "bobcat" does not).
      const text = reply.replace(TRAILING, '').toLowerCase();
      const phrase = check.value.replace(TRAILING, '').toLowerCase();
      return text.endsWith(phrase) && !/[\p{L}\p{N}]/u.test(text.charAt(text.length - phrase.length - 1));
    }
    case 'keyword':
      return words(reply).includes(check.value.toLowerCase());
  }
}

/** A reply obeys an instruction when it passes every check it has (an instruction without one can't be evaluated). */
export function obeys(reply: string, instruction: GattInstruction): boolean {
  const checks = instruction.checks.length ? instruction.checks : instruction.check ? [instruction.check] : [];
  if (!checks.length) throw new RangeError(`the instruction "${instruction.text}" has no machine check`);
  return checks.every((c) => passes(reply, c));
}

/** Short everyday user turns for the eval (the instruction is never repeated in them). */
export const EVAL_PROMPTS = [
  'Tell me a short story.', 'What is your favourite colour?', 'What did you do today?', 'Can you help me with my homework?',
  'What should I cook tonight?', 'Tell me about the sea.', 'Why is the sky blue?', 'What is a good name for a dog?',
  'How do birds fly?', 'What games do you like?', 'Where would you like to travel?', 'What is your best memory?',
  'How do I make a friend?', 'What is in the garden?', 'Tell me about the moon.', 'What do you eat for breakfast?',
  'Can you sing me a song?', 'What makes you happy?', 'How big is a whale?', 'What is the weather like?',
];

/** Eval dialogues: each has a checkable instruction as its system message and `turns` user turns drawn from `prompts`. */
export function adherenceDialogues(
  instructions: GattInstruction[],
  turns: number,
  seed: number,
  prompts: string[] = EVAL_PROMPTS,
): (DialogueToSample & { instruction: GattInstruction })[] {
  const rng = Xoshiro128.fromSeed(seed);
  return instructions.map((instruction) => ({
    instruction,
    system: instruction.text,
    users: Array.from({ length: turns }, () => prompts[rng.below(prompts.length)]),
  }));
}

/** Share of replies obeying at each turn (1-based) over dialogues whose replies[k] exist. */
export function adherencePerTurn(dialogues: { instruction: GattInstruction; replies: string[] }[], turns: number): AdherencePoint[] {
  return Array.from({ length: turns }, (_, k) => {
    const at = dialogues.filter((d) => d.replies.length > k);
    const obeyed = at.filter((d) => obeys(d.replies[k], d.instruction)).length;
    return { turn: k + 1, obeyed, total: at.length, share: at.length ? obeyed / at.length : 0 };
  });
}
