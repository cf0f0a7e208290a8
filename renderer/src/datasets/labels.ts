// Words the Datasets view shows for the contract's enums.
import type { RowProblem } from '../../../electron/shared/contract-datasets';

const problemLabels: Record<RowProblem, string> = {
  no_assistant_turn: 'no assistant turn',
  empty_reply: 'empty reply',
  empty_message: 'empty message',
  roles_out_of_order: 'roles out of order',
  ends_with_user: 'ends with a user turn',
  too_long: 'too long',
  duplicate: 'duplicate',
  near_duplicate: 'near duplicate',
  contamination: 'train/validation contamination',
};

/** Every problem code, in the order the view lists them (the record above makes it complete). */
export const PROBLEMS = Object.keys(problemLabels) as RowProblem[];

export function problemLabel(p: RowProblem): string {
  return problemLabels[p] ?? p;
}

export const SPLITS = ['train', 'validation', 'test'] as const;

export const IMPORT_FORMATS = [
  ['auto', 'Detect automatically'],
  ['alpaca', 'Alpaca (instruction / input / output)'],
  ['sharegpt', 'ShareGPT (conversations: from / value)'],
  ['openai', 'OpenAI chat (messages: role / content)'],
  ['oasst', 'OpenAssistant (tree or flat messages)'],
  ['completions', 'Completions (prompt / completion)'],
  ['text', 'Plain text'],
  ['csv', 'CSV'],
  ['parquet', 'Parquet'],
] as const;

export const EXPORT_FORMATS = [
  ['openai', 'OpenAI chat JSONL'],
  ['alpaca', 'Alpaca JSON'],
  ['sharegpt', 'ShareGPT JSON'],
] as const;

/** A new id for an import, so its progress events can be told apart from another window's. */
export function newImportId(): string {
  return typeof crypto !== 'undefined' && 'randomUUID' in crypto
    ? crypto.randomUUID()
    : `imp-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
