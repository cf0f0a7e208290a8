// Tables (CSV, TSV, Parquet) -> samples through a column mapping: system / prompt / input /
// response make a chat row (prompt and input joined as Alpaca's are), a conversation column holds
// JSON turns (OpenAI role/content or ShareGPT from/value), a text column makes a text row. Without a
// mapping the common column names are recognised; otherwise the error lists the columns found.
import type { ColumnMapping } from '../../shared/contract-datasets';
import { RecordError, recordToSample } from './record-formats';
import type { TrainingSample } from './sample';

type Field = keyof ColumnMapping;

// Names as the popular datasets spell them, in order of preference.
const GUESSES: Record<Field, string[]> = {
  conversation: ['messages', 'conversations', 'conversation'],
  prompt: ['instruction', 'prompt', 'question', 'query'],
  input: ['input', 'context'],
  response: ['output', 'response', 'completion', 'answer'],
  system: ['system', 'system_prompt'],
  text: ['text'],
};

/** The mapping to use: the given one checked against the columns, or one guessed from their names. */
export function resolveMapping(file: string, columns: string[], given?: ColumnMapping): ColumnMapping {
  if (given && Object.values(given).some((c) => c)) return checked(file, columns, given);
  const byLower = new Map(columns.map((c) => [c.toLowerCase(), c]));
  const pick = (f: Field) => GUESSES[f].map((n) => byLower.get(n)).find((c) => c !== undefined);
  const system = pick('system');
  const conversation = pick('conversation');
  if (conversation) return { conversation, ...(system ? { system } : {}) };
  const prompt = pick('prompt');
  const response = pick('response');
  if (prompt && response) {
    const input = pick('input');
    return { prompt, response, ...(input ? { input } : {}), ...(system ? { system } : {}) };
  }
  const text = pick('text');
  if (text) return { text };
  throw new Error(
    `${file}: can't tell which columns hold the data (columns found: ${columns.join(', ') || 'none'}); ` +
      'expected instruction/input/output, prompt/response (or completion), question/answer, text, or messages/conversations — or give a column mapping',
  );
}

function checked(file: string, columns: string[], m: ColumnMapping): ColumnMapping {
  for (const [field, column] of Object.entries(m)) {
    if (column && !columns.includes(column)) {
      throw new Error(`${file}: the column mapping's ${field} column "${column}" is not in the file (columns found: ${columns.join(', ')})`);
    }
  }
  if (!m.conversation && !m.text && !m.response) {
    throw new Error(`${file}: the column mapping needs a response, a conversation or a text column`);
  }
  return m;
}

/** One table row (column name -> cell) -> a sample; throws a RecordError naming the column. */
export function tableRowToSample(row: Record<string, unknown>, m: ColumnMapping): TrainingSample {
  const system = m.system ? cell(row, m.system) : '';
  if (m.conversation) {
    const sample = conversation(row[m.conversation], m.conversation);
    if (system && sample.kind === 'chat' && sample.messages[0]?.role !== 'system') sample.messages.unshift({ role: 'system', content: system });
    return sample;
  }
  if (m.text && !m.response) return { kind: 'text', text: cell(row, m.text) };
  return recordToSample('alpaca', {
    instruction: m.prompt ? cell(row, m.prompt) : '',
    input: m.input ? cell(row, m.input) : '',
    output: cell(row, m.response ?? ''),
    system,
  });
}

function conversation(v: unknown, column: string): TrainingSample {
  let turns = v;
  if (typeof v === 'string') {
    try {
      turns = JSON.parse(v);
    } catch (err) {
      throw new RecordError(`column "${column}" is not JSON turns: ${(err as Error).message}`);
    }
  }
  if (!Array.isArray(turns)) throw new RecordError(`column "${column}" must hold a list of turns`);
  const first = turns[0] as Record<string, unknown> | undefined;
  const sharegpt = typeof first === 'object' && first !== null && 'from' in first;
  try {
    return sharegpt ? recordToSample('sharegpt', { conversations: turns }) : recordToSample('openai', { messages: turns });
  } catch (err) {
    throw new RecordError(`column "${column}": ${(err as Error).message}`);
  }
}

/** A cell as text: empty for a missing value, numbers and flags written out, structures as JSON. */
function cell(row: Record<string, unknown>, column: string): string {
  const v = row[column];
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'object') return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
  return String(v);
}
