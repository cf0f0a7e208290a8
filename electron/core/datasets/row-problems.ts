// Row-local validation: what is wrong with one row on its own (kept current on every edit, and
// run on every row of an import, so it is one pass over the messages with no allocation beyond
// the result). These are the rules; sample-problems.ts only words them for the file readers.
import type { DatasetMessage, RowProblem } from '../../shared/contract-datasets';
import type { RowKind } from './dataset-stream';

const blank = (s: string) => s.trim() === '';

export function rowProblems(kind: RowKind, messages: readonly Pick<DatasetMessage, 'role' | 'content'>[]): RowProblem[] {
  // A text row is one assistant message; a completion is [prompt, completion] and may have an
  // empty prompt (plain continuation): only the trained text can be missing.
  if (kind !== 'chat') {
    const trained = messages.find((m) => m.role === 'assistant');
    return !trained || blank(trained.content) ? ['empty_reply'] : [];
  }
  let hasAssistant = false;
  let emptyReply = false;
  let emptyMessage = false;
  let inOrder = true;
  // An optional system message first, then user and assistant turns alternating from a user turn.
  let expect: 'user' | 'assistant' = 'user';
  messages.forEach((m, i) => {
    if (m.role === 'assistant') {
      hasAssistant = true;
      if (blank(m.content)) emptyReply = true;
    } else if (blank(m.content)) emptyMessage = true;
    if (m.role === 'system' && i === 0) return;
    if (m.role !== expect) inOrder = false;
    expect = m.role === 'user' ? 'assistant' : 'user';
  });
  const problems: RowProblem[] = [];
  if (!hasAssistant) problems.push('no_assistant_turn');
  if (emptyReply) problems.push('empty_reply');
  if (emptyMessage) problems.push('empty_message');
  if (!inOrder) problems.push('roles_out_of_order');
  // Training ends on a reply; a trailing question teaches nothing (and is already "out of order" otherwise).
  else if (messages.length > 1 && messages[messages.length - 1].role === 'user') problems.push('ends_with_user');
  return problems;
}
