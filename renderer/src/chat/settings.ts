// The settings panel's form model: drafts are strings (what the inputs hold), validated against
// the contract's ranges, and turned into a chat.update patch of only the fields that changed.
import type { Conversation, SamplingSettings } from '../../../electron/shared/contract';

export type Field = 'systemPrompt' | 'temperature' | 'topP' | 'topK' | 'maxTokens' | 'seed' | 'stop';
export type Draft = Record<Field, string>;
export type Patch = { systemPrompt?: string; settings?: Partial<SamplingSettings> };

const DEFAULTS: SamplingSettings = { temperature: 0.8, topP: 0.95, topK: 40, maxTokens: 256, seed: null, stop: [] };
const MAX_SEED = 2 ** 32 - 1;

/** Stop strings are edited one per line; `\n`, `\t` and `\\` stand for themselves. */
export function encodeStop(stop: string[]): string {
  return stop.map((s) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\t/g, '\\t')).join('\n');
}

export function decodeStop(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/\\(n|t|\\)/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : '\\')))
    .filter((s) => s.length > 0);
}

function settingsDraft(s: SamplingSettings): Omit<Draft, 'systemPrompt'> {
  return {
    temperature: String(s.temperature),
    topP: String(s.topP),
    topK: String(s.topK),
    maxTokens: String(s.maxTokens),
    seed: s.seed === null ? '' : String(s.seed),
    stop: encodeStop(s.stop),
  };
}

export function draftOf(c: Conversation): Draft {
  return { systemPrompt: c.systemPrompt, ...settingsDraft(c.settings) };
}

export function defaultsDraft(): Draft {
  return { systemPrompt: '', ...settingsDraft(DEFAULTS) };
}

const num = (s: string) => (s.trim() === '' ? NaN : Number(s));

/** Per field: an error message, or null when the draft value is usable. */
export function validate(d: Draft): Record<Field, string | null> {
  const t = num(d.temperature);
  const p = num(d.topP);
  const k = num(d.topK);
  const m = num(d.maxTokens);
  const seed = d.seed.trim() === '' ? null : num(d.seed);
  return {
    systemPrompt: null,
    temperature: t >= 0 && t <= 5 ? null : 'Between 0 and 5',
    topP: p > 0 && p <= 1 ? null : 'Above 0, at most 1',
    topK: Number.isInteger(k) && k >= 0 ? null : 'A whole number ≥ 0',
    maxTokens: Number.isInteger(m) && m >= 1 && m <= 32768 ? null : 'A whole number, 1 to 32768',
    seed: seed === null || (Number.isInteger(seed) && seed >= 0 && seed <= MAX_SEED) ? null : `Empty, or 0 to ${MAX_SEED}`,
    stop: null,
  };
}

/**
 * A chat.update patch for what changed between `saved` and `next` (null: nothing). When any
 * sampling field changed, the whole settings object is sent (invalid drafts fall back to
 * `current`): the server's partial schema fills omitted fields with their defaults.
 */
export function patchOf(saved: Draft, next: Draft, current: SamplingSettings): Patch | null {
  const errors = validate(next);
  const ok = (f: Field) => !errors[f];
  const patch: Patch = {};
  if (next.systemPrompt !== saved.systemPrompt) patch.systemPrompt = next.systemPrompt;
  const fields: Field[] = ['temperature', 'topP', 'topK', 'maxTokens', 'seed', 'stop'];
  if (fields.some((f) => next[f] !== saved[f] && ok(f))) {
    patch.settings = {
      temperature: ok('temperature') ? num(next.temperature) : current.temperature,
      topP: ok('topP') ? num(next.topP) : current.topP,
      topK: ok('topK') ? num(next.topK) : current.topK,
      maxTokens: ok('maxTokens') ? num(next.maxTokens) : current.maxTokens,
      seed: ok('seed') ? (next.seed.trim() === '' ? null : num(next.seed)) : current.seed,
      stop: decodeStop(next.stop),
    };
  }
  return Object.keys(patch).length > 0 ? patch : null;
}
