// A stored row <-> a training sample. Rows keep every kind as messages so one editor and one
// validator serve them all: a completion is [user prompt, assistant completion], a text sample
// is one assistant message holding the text.
import type { DatasetMessage } from '../../shared/contract-datasets';
import type { RowKind } from './dataset-stream';
import type { TrainingSample } from './sample';

export interface RowLike {
  kind: RowKind;
  messages: DatasetMessage[];
}

export function sampleToRow(sample: TrainingSample): RowLike {
  switch (sample.kind) {
    case 'chat':
      return { kind: 'chat', messages: sample.messages.map((m) => ({ role: m.role, content: m.content, train: m.train ?? true })) };
    case 'completion':
      return {
        kind: 'completion',
        messages: [
          { role: 'user', content: sample.prompt, train: true },
          { role: 'assistant', content: sample.completion, train: true },
        ],
      };
    case 'text':
      return { kind: 'text', messages: [{ role: 'assistant', content: sample.text, train: true }] };
  }
}

export function rowToSample(row: RowLike): TrainingSample {
  switch (row.kind) {
    case 'chat':
      return { kind: 'chat', messages: row.messages.map((m) => (m.train === false ? { role: m.role, content: m.content, train: false } : { role: m.role, content: m.content })) };
    case 'completion':
      return {
        kind: 'completion',
        prompt: row.messages.find((m) => m.role !== 'assistant')?.content ?? '',
        completion: row.messages.find((m) => m.role === 'assistant')?.content ?? '',
      };
    case 'text':
      return { kind: 'text', text: row.messages.map((m) => m.content).join('\n\n') };
  }
}
