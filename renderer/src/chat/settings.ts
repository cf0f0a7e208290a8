// The settings panel's form model: drafts are strings (what the inputs hold), validated against
// the contract's ranges, and turned into a chat.update patch of only the fields that changed.
import type { Conversation, LogitBiasEntry, SamplingSettings } from '../../../electron/shared/contract';

type SettingKey = keyof SamplingSettings;
export type Field = 'systemPrompt' | SettingKey;
export type Draft = Record<Field, string>;
export type Patch = { systemPrompt?: string; settings?: Partial<SamplingSettings> };

/** The contract's defaults (kept here as data: the renderer doesn't bundle zod). */
const DEFAULTS: SamplingSettings = {
  temperature: 0.8, topP: 0.95, topK: 40, maxTokens: 256, seed: null, stop: [],
  minP: 0, repeatPenalty: 1, frequencyPenalty: 0, presencePenalty: 0, penaltyLastN: 64, logitBias: [],
  contextLength: null, threads: null, contextPolicy: 'truncate',
};
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

/** Logit bias lines "token or id: bias" (bias a number or "ban"); a token with spaces or a colon can be "quoted". */
export function encodeLogitBias(entries: LogitBiasEntry[]): string {
  const tokenText = (t: string) => (/^\S+$/.test(t) && !t.startsWith('"') ? t : JSON.stringify(t));
  return entries.map((e) => `${tokenText(e.token)}: ${e.bias}`).join('\n');
}

/** The entries, or the first bad line's error. */
export function decodeLogitBias(text: string): { entries: LogitBiasEntry[] } | { error: string } {
  const entries: LogitBiasEntry[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line) continue;
    const colon = line.lastIndexOf(':');
    const bad = { error: `Line ${i + 1}: write "token or id: bias" (bias -100 to 100, or ban)` };
    if (colon <= 0) return bad;
    let token = line.slice(0, colon).trim();
    if (token.startsWith('"')) {
      try {
        token = JSON.parse(token) as string;
      } catch {
        return bad;
      }
    }
    const b = line.slice(colon + 1).trim().toLowerCase();
    const bias = b === 'ban' || b === '-inf' ? ('ban' as const) : b === '' ? NaN : Number(b);
    if (!token || (bias !== 'ban' && !(bias >= -100 && bias <= 100))) return bad;
    entries.push({ token, bias });
  }
  return { entries };
}

const num = (s: string) => (s.trim() === '' ? NaN : Number(s));
const optionalInt = (s: string) => (s.trim() === '' ? null : num(s));

/** Each setting: how it shows in its input, how a draft becomes a value (undefined: invalid), and its error. */
interface Codec {
  show(v: unknown): string;
  parse(s: string): unknown;
  error: string;
}
const range = (lo: number, hi: number) => (x: number) => x >= lo && x <= hi;
const int = (lo: number, hi: number) => (x: number) => Number.isInteger(x) && x >= lo && x <= hi;
const number = (ok: (x: number) => boolean, error: string): Codec => ({
  show: (v) => String(v),
  parse: (s) => (ok(num(s)) ? num(s) : undefined),
  error,
});
/** Empty means null ("random", "the model's", "all cores"). */
const nullableInt = (lo: number, hi: number, error: string): Codec => ({
  show: (v) => (v === null ? '' : String(v)),
  parse: (s) => {
    const v = optionalInt(s);
    return v === null || int(lo, hi)(v) ? v : undefined;
  },
  error,
});

const CODECS: Record<SettingKey, Codec> = {
  temperature: number(range(0, 5), 'Between 0 and 5'),
  topP: number((x) => x > 0 && x <= 1, 'Above 0, at most 1'),
  topK: number(int(0, Number.MAX_SAFE_INTEGER), 'A whole number ≥ 0'),
  maxTokens: number(int(1, 32768), 'A whole number, 1 to 32768'),
  seed: nullableInt(0, MAX_SEED, `Empty, or 0 to ${MAX_SEED}`),
  stop: { show: (v) => encodeStop(v as string[]), parse: decodeStop, error: '' },
  minP: number(range(0, 1), 'Between 0 and 1'),
  repeatPenalty: number((x) => x > 0 && x <= 10, 'Above 0, at most 10 (1 = off)'),
  frequencyPenalty: number(range(-2, 2), 'Between -2 and 2'),
  presencePenalty: number(range(-2, 2), 'Between -2 and 2'),
  penaltyLastN: number(int(0, 4096), 'A whole number, 0 to 4096'),
  logitBias: {
    show: (v) => encodeLogitBias(v as LogitBiasEntry[]),
    parse: (s) => {
      const r = decodeLogitBias(s);
      return 'entries' in r ? r.entries : undefined;
    },
    error: 'One "token or id: bias" per line; bias -100 to 100, or ban',
  },
  contextLength: nullableInt(16, 1 << 20, 'Empty, or 16 to 1048576 tokens'),
  threads: nullableInt(1, 256, 'Empty, or 1 to 256'),
  contextPolicy: { show: (v) => String(v), parse: (s) => (s === 'truncate' || s === 'shift' ? s : undefined), error: 'truncate or shift' },
};
const SETTING_KEYS = Object.keys(CODECS) as SettingKey[];

function settingsDraft(s: SamplingSettings): Omit<Draft, 'systemPrompt'> {
  const out = {} as Record<SettingKey, string>;
  for (const k of SETTING_KEYS) out[k] = CODECS[k].show(s[k] ?? DEFAULTS[k]);
  return out;
}

export function draftOf(c: Conversation): Draft {
  return { systemPrompt: c.systemPrompt, ...settingsDraft(c.settings) };
}

export function defaultsDraft(): Draft {
  return { systemPrompt: '', ...settingsDraft(DEFAULTS) };
}

/** A field's error for the logit bias names the bad line. */
function errorOf(k: SettingKey, s: string): string | null {
  if (CODECS[k].parse(s) !== undefined) return null;
  if (k === 'logitBias') {
    const r = decodeLogitBias(s);
    if ('error' in r) return r.error;
  }
  return CODECS[k].error;
}

/** Per field: an error message, or null when the draft value is usable. */
export function validate(d: Draft): Record<Field, string | null> {
  const out = { systemPrompt: null } as Record<Field, string | null>;
  for (const k of SETTING_KEYS) out[k] = errorOf(k, d[k]);
  return out;
}

/**
 * A chat.update patch for what changed between `saved` and `next` (null: nothing): the valid
 * changed settings only; the server keeps the fields a patch leaves out.
 */
export function patchOf(saved: Draft, next: Draft, _current?: SamplingSettings): Patch | null {
  const patch: Patch = {};
  if (next.systemPrompt !== saved.systemPrompt) patch.systemPrompt = next.systemPrompt;
  const settings: Record<string, unknown> = {};
  for (const k of SETTING_KEYS) {
    if (next[k] === saved[k]) continue;
    const v = CODECS[k].parse(next[k]);
    if (v !== undefined) settings[k] = v;
  }
  if (Object.keys(settings).length > 0) patch.settings = settings as Partial<SamplingSettings>;
  return Object.keys(patch).length > 0 ? patch : null;
}
