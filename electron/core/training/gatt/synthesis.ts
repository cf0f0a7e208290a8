// GAtt synthesis, the data side (Llama 2 sec. 3.3, step 1): which rows of a dataset are multi-turn
// dialogues, an instruction drawn for each, the dialogues to sample (the instruction appended to
// every user turn), and the sampled replies turned into GAtt training rows (gatt-rows.ts).
import type { GattInstruction, GattInstructionOptions } from '../../../shared/contract-gatt';
import type { DialogueToSample } from '../../../shared/engine-protocol-gatt';
import type { PlainRow } from '../../datasets/dataset-service';
import { gattRows, withInstruction, type RowsPerDialogue, type SynthesizedDialogue } from './gatt-rows';
import { InstructionBuilder } from './instructions';

export interface SourceDialogue {
  /** Index of the row in the version it came from. */
  row: number;
  system?: string;
  users: string[];
}

/** Chat rows with at least `minTurns` non-empty user turns, as system + user turns (their replies are resampled). */
export function multiTurnDialogues(rows: PlainRow[], minTurns: number): SourceDialogue[] {
  const out: SourceDialogue[] = [];
  rows.forEach((r, row) => {
    if (r.kind !== 'chat') return;
    const users = r.messages.filter((m) => m.role === 'user' && m.content.trim()).map((m) => m.content);
    if (users.length < minTurns) return;
    const system = r.messages.find((m) => m.role === 'system' && m.content.trim())?.content;
    out.push(system ? { row, system, users } : { row, users });
  });
  return out;
}

export interface SynthesisPlan {
  sources: SourceDialogue[];
  instructions: GattInstruction[];
  /** What the engine samples: the source's system message and each user turn with the instruction's long form appended. */
  toSample: DialogueToSample[];
}

export function planSynthesis(rows: PlainRow[], opts: { minTurns: number; maxRows?: number; instructions: GattInstructionOptions }): SynthesisPlan {
  const sources = multiTurnDialogues(rows, opts.minTurns).slice(0, opts.maxRows);
  const instructions = new InstructionBuilder(opts.instructions).take(sources.length);
  const toSample = sources.map((s, i) => ({
    ...(s.system ? { system: s.system } : {}),
    users: s.users.map((u) => withInstruction(u, instructions[i])),
  }));
  return { sources, instructions, toSample };
}

/** The synthesized dialogues (source turns + sampled replies) as GAtt training rows. */
export function synthesizedRows(plan: SynthesisPlan, replies: string[][], rows: RowsPerDialogue = 'one'): PlainRow[] {
  return replies.flatMap((r, i) => gattRows(synthesized(plan, i, r), rows));
}

export function synthesized(plan: SynthesisPlan, i: number, replies: string[]): SynthesizedDialogue {
  const s = plan.sources[i];
  return { instruction: plan.instructions[i], ...(s.system ? { system: s.system } : {}), users: s.users, replies };
}
