// Why a sample that parsed is still dubious, in words, for the file readers (import, CLI). Such
// samples are kept and flagged (the user decides), never dropped: an empty reply or a conversation
// without an assistant turn trains nothing useful. The rules are rowProblems'; this only words them.
import type { RowProblem } from '../../shared/contract-datasets';
import { rowProblems } from './row-problems';
import { sampleToRow } from './row-sample';
import type { TrainingSample } from './sample';

const WORDS: Record<RowProblem, string> = {
  no_assistant_turn: 'no assistant turn',
  empty_reply: 'empty reply',
  empty_message: 'empty message',
  roles_out_of_order: 'roles out of order',
  ends_with_user: 'ends with a user turn',
  too_long: 'longer than the context',
  duplicate: 'duplicate',
  near_duplicate: 'near duplicate',
  contamination: 'contamination',
};

/** A problem code in words; an empty text or completion is named as such rather than as a reply. */
export function problemWords(problem: RowProblem, kind: TrainingSample['kind'] = 'chat'): string {
  if (problem === 'empty_reply' && kind !== 'chat') return `empty ${kind}`;
  return WORDS[problem];
}

export function sampleProblems(sample: TrainingSample): string[] {
  const row = sampleToRow(sample);
  return rowProblems(row.kind, row.messages).map((p) => problemWords(p, sample.kind));
}
