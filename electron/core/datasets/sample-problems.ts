// Why a sample that parsed is still dubious. Such samples are kept and flagged (the user decides),
// never dropped: an empty reply or a conversation without an assistant turn trains nothing useful.
import type { TrainingSample } from './sample';

export function sampleProblems(sample: TrainingSample): string[] {
  if (sample.kind === 'text') return sample.text.trim() ? [] : ['empty text'];
  if (sample.kind === 'completion') return sample.completion.trim() ? [] : ['empty completion'];
  const problems: string[] = [];
  const msgs = sample.messages;
  if (!msgs.some((m) => m.role === 'assistant')) problems.push('no assistant turn');
  if (msgs.some((m) => m.role === 'assistant' && !m.content.trim())) problems.push('empty reply');
  if (msgs.some((m) => m.role !== 'assistant' && !m.content.trim())) problems.push('empty message');
  if (!rolesInOrder(msgs.map((m) => m.role))) problems.push('roles out of order');
  else if (msgs.length > 1 && msgs[msgs.length - 1].role === 'user') problems.push('ends with a user turn');
  return problems;
}

/** An optional system message first, then user and assistant turns alternating from a user turn. */
function rolesInOrder(roles: string[]): boolean {
  const turns = roles[0] === 'system' ? roles.slice(1) : roles;
  return turns.every((r, i) => r === (i % 2 === 0 ? 'user' : 'assistant'));
}
