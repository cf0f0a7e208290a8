// One JSON record -> one training sample, per format; and which format a record looks like.
// A record that is JSON but not a sample of its format (a field missing, a role unknown) throws a
// RecordError, which the reader turns into a quarantine entry for that record's line.
import type { ChatMessage, DatasetFormat, Role, TrainingSample } from './sample';

export class RecordError extends Error {}

/** The formats whose files hold one sample per JSON record (OASST trees are read by oasst.ts). */
export type RecordFormat = 'alpaca' | 'sharegpt' | 'openai' | 'completions' | 'text';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The format a record looks like, or undefined. */
export function detectRecordFormat(value: unknown): Exclude<DatasetFormat, 'auto' | 'csv' | 'parquet'> | undefined {
  if (!isObject(value)) return undefined;
  if (Array.isArray(value.conversations)) return 'sharegpt';
  if (Array.isArray(value.messages)) return 'openai';
  if ('message_tree_id' in value && isObject(value.prompt)) return 'oasst';
  if ('message_id' in value && 'role' in value && 'text' in value) return 'oasst';
  if ('instruction' in value && 'output' in value) return 'alpaca';
  if ('prompt' in value && 'completion' in value) return 'completions';
  if (typeof value.text === 'string') return 'text';
  return undefined;
}

export function recordToSample(format: RecordFormat, value: unknown): TrainingSample {
  if (!isObject(value)) throw new RecordError(`expected a JSON object, found ${describe(value)}`);
  switch (format) {
    case 'alpaca':
      return alpaca(value);
    case 'sharegpt':
      return { kind: 'chat', messages: turns(value.conversations, 'conversations', 'from', 'value', SHAREGPT_ROLES) };
    case 'openai':
      return { kind: 'chat', messages: turns(value.messages, 'messages', 'role', 'content', OPENAI_ROLES) };
    case 'completions':
      return { kind: 'completion', prompt: str(value, 'prompt'), completion: str(value, 'completion') };
    case 'text':
      return { kind: 'text', text: str(value, 'text') };
  }
}

/** Alpaca: the instruction (and its input, when there is one, after a blank line) is the user turn. */
function alpaca(v: Record<string, unknown>): TrainingSample {
  const instruction = str(v, 'instruction');
  const input = v.input === undefined || v.input === null ? '' : str(v, 'input');
  const messages: ChatMessage[] = [];
  if (typeof v.system === 'string' && v.system) messages.push({ role: 'system', content: v.system });
  messages.push({ role: 'user', content: input ? `${instruction}\n\n${input}` : instruction });
  messages.push({ role: 'assistant', content: str(v, 'output') });
  return { kind: 'chat', messages };
}

// ShareGPT speakers as FastChat, axolotl and LLaMA-Factory name them.
const SHAREGPT_ROLES: Record<string, Role> = {
  system: 'system',
  human: 'user',
  user: 'user',
  gpt: 'assistant',
  assistant: 'assistant',
  chatgpt: 'assistant',
  bard: 'assistant',
  bing: 'assistant',
  model: 'assistant',
};

const OPENAI_ROLES: Record<string, Role> = { system: 'system', developer: 'system', user: 'user', assistant: 'assistant' };

function turns(list: unknown, field: string, roleKey: string, textKey: string, roles: Record<string, Role>): ChatMessage[] {
  if (!Array.isArray(list)) throw new RecordError(`"${field}" must be an array, found ${describe(list)}`);
  return list.map((m, i) => {
    if (!isObject(m)) throw new RecordError(`${field}[${i}] must be an object, found ${describe(m)}`);
    const name = m[roleKey];
    const role = typeof name === 'string' ? roles[name.toLowerCase()] : undefined;
    if (!role) throw new RecordError(`${field}[${i}].${roleKey} is ${JSON.stringify(name)}: expected one of ${Object.keys(roles).join(', ')}`);
    const msg: ChatMessage = { role, content: content(m[textKey], `${field}[${i}].${textKey}`) };
    if (trainWeight(m.weight, `${field}[${i}].weight`, role) === false) msg.train = false;
    return msg;
  });
}

/**
 * OpenAI's per-message "weight" (0 or 1, assistant turns only): 0 keeps the reply as context with no
 * loss. ShareGPT turns may carry it too (that is how Paddock's export keeps the flag).
 */
function trainWeight(w: unknown, where: string, role: Role): boolean | undefined {
  if (w === undefined || w === null) return undefined;
  if (w !== 0 && w !== 1) throw new RecordError(`${where} is ${JSON.stringify(w)}: expected 0 or 1`);
  if (role !== 'assistant') return undefined; // OpenAI allows it on assistant turns only; elsewhere it means nothing
  return w === 1;
}

/** A string, or OpenAI's list of content parts (its text parts joined). */
function content(v: unknown, where: string): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((p) => isObject(p) && p.type === 'text' && typeof p.text === 'string')) {
    return v.map((p) => (p as { text: string }).text).join('');
  }
  throw new RecordError(`${where} must be a string (or a list of text parts), found ${describe(v)}`);
}

function str(v: Record<string, unknown>, key: string): string {
  const x = v[key];
  if (typeof x !== 'string') throw new RecordError(`"${key}" must be a string, found ${describe(x)}`);
  return x;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v).slice(0, 40)}`;
}
