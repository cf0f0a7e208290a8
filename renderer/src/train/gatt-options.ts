// The instruction builder's settings (Llama 2 sec. 3.3): which constraint lists, the user's own
// constraints, how many are combined, the share shortened, the seed. Shared by the preview and
// synthesis, so what is previewed is what is synthesised.
import type { z } from 'zod';
import type { GattInstructionOptions } from '../../../electron/shared/contract-gatt';

export type InstructionOptions = z.output<typeof GattInstructionOptions>;
export const KINDS = ['hobby', 'language', 'figure', 'signoff', 'custom'] as const;
export type ConstraintKind = (typeof KINDS)[number];

export const KIND_LABELS: Record<ConstraintKind, string> = {
  hobby: 'Hobbies',
  language: 'Language',
  figure: 'Public figure',
  signoff: 'Sign-off word',
  custom: 'My own',
};

/** Kinds with a machine check: the adherence eval can only use these (hobbies have none). */
export const CHECKABLE_KINDS = ['signoff', 'language', 'figure'] as const;

export function defaultOptions(): InstructionOptions {
  return { kinds: ['hobby', 'language', 'figure'], custom: [], maxCombined: 2, shortenShare: 0.5, seed: 0 };
}

/** The user's own constraints, one per line, blanks dropped. */
export function parseCustom(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}
