// The two forms of a synthesized dialogue (Llama 2 sec. 3.3):
//  - the synthesis form: the instruction's long form appended to every user turn (how the replies
//    were sampled, so each one obeys it with the instruction right in front of the model);
//  - the GAtt training form: the instruction only in the system message, every earlier turn as
//    context with no loss (earlier replies marked train=false), only the last reply trained.
//
// Where the instruction goes: the system message. The paper allows "the first turn or the system
// message"; the system message is where a user puts an instruction that must hold for the whole
// chat and where the adherence eval puts it, and every template Paddock renders has a slot for it
// (Llama 2's template prints it inside the first [INST], i.e. the first turn, as Meta's does). The
// user turns stay exactly the source dataset's text.
import type { DatasetMessage } from '../../../shared/contract-datasets';
import type { GattInstruction } from '../../../shared/contract-gatt';
import type { PlainRow } from '../../datasets/dataset-service';

export interface SynthesizedDialogue {
  instruction: GattInstruction;
  /** The source row's own system message, kept before the instruction. */
  system?: string;
  /** The source's user turns (without the instruction). */
  users: string[];
  /** The sampled replies, one per user turn. */
  replies: string[];
}

/** `one`: the whole dialogue, its last reply trained; `every`: also each shorter prefix (turns 1..k, reply k trained). */
export type RowsPerDialogue = 'one' | 'every';

/** A user turn as synthesis sends it: the instruction appended. */
export function withInstruction(user: string, instruction: GattInstruction): string {
  return `${user}\n${instruction.long}`;
}

/** The system message of a GAtt row: the source's own, then the instruction. */
export function gattSystem(d: Pick<SynthesizedDialogue, 'instruction' | 'system'>): string {
  return d.system ? `${d.system}\n${d.instruction.text}` : d.instruction.text;
}

const turnsOf = (d: SynthesizedDialogue, rows: RowsPerDialogue): number[] => {
  const n = Math.min(d.users.length, d.replies.length);
  return rows === 'every' ? Array.from({ length: n }, (_, i) => i + 1) : n ? [n] : [];
};

/** GAtt training rows of a dialogue: system = instruction, earlier replies train=false, the last one trained. */
export function gattRows(d: SynthesizedDialogue, rows: RowsPerDialogue = 'one'): PlainRow[] {
  return turnsOf(d, rows).map((turns) => {
    const messages: DatasetMessage[] = [{ role: 'system', content: gattSystem(d), train: true }];
    for (let k = 0; k < turns; k++) {
      messages.push({ role: 'user', content: d.users[k], train: true });
      messages.push({ role: 'assistant', content: d.replies[k], train: k === turns - 1 });
    }
    return { kind: 'chat', messages, split: null, tags: ['gatt'] };
  });
}

/** The same turns in synthesis form (the instruction in every user turn, every reply trained): GAtt's ablation. */
export function synthesisFormRows(d: SynthesizedDialogue, rows: RowsPerDialogue = 'one'): PlainRow[] {
  return turnsOf(d, rows).map((turns) => {
    const messages: DatasetMessage[] = d.system ? [{ role: 'system', content: d.system, train: true }] : [];
    for (let k = 0; k < turns; k++) {
      messages.push({ role: 'user', content: withInstruction(d.users[k], d.instruction), train: true });
      messages.push({ role: 'assistant', content: d.replies[k], train: true });
    }
    return { kind: 'chat', messages, split: null, tags: ['synthesis-form'] };
  });
}
