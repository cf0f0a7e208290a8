// Number and text formatting shared by the views. Pure functions, no state.
import type { GenerationStats, ModelRecord } from '../../../electron/shared/contract';

/** One decimal below 10, none from 10 up, ".0" dropped: 260K, 1.1B, 24M, 7B. */
function scaled(n: number, units: [number, string][], sep = ''): string {
  for (const [size, suffix] of units) {
    if (Math.abs(n) >= size) {
      const v = n / size;
      const s = v >= 10 ? v.toFixed(0) : v.toFixed(1).replace(/\.0$/, '');
      return `${s}${sep}${suffix}`;
    }
  }
  return String(n);
}

/** Parameter counts the way model cards say them: 260K, 15M, 1.1B. */
export function humanCount(n: number): string {
  return scaled(n, [
    [1e12, 'T'],
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'K'],
  ]);
}

/** File sizes in decimal units, like download pages: 1.2 MB, 4.4 GB. */
export function humanBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  for (const [size, suffix] of [
    [1e12, 'TB'],
    [1e9, 'GB'],
    [1e6, 'MB'],
    [1e3, 'KB'],
  ] as const) {
    if (n >= size) {
      const v = n / size;
      return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${suffix}`;
    }
  }
  return `${n} B`;
}

const modelFormats: Record<ModelRecord['format'], string> = { gguf: 'GGUF', llama2c: 'llama2.c', hf: 'HF folder' };

/** "GGUF", "llama2.c", "HF folder" */
export function modelFormatLabel(f: ModelRecord['format']): string {
  return modelFormats[f] ?? f;
}

/** Integers with thin grouping: 32,000. */
export function grouped(n: number): string {
  return n.toLocaleString('en-US');
}

/** "412.3 tok/s · 200 tokens · TTFT 12 ms" */
export function statsLine(s: GenerationStats): string {
  const tokens = `${s.completionTokens} ${s.completionTokens === 1 ? 'token' : 'tokens'}`;
  return `${s.tokensPerSecond.toFixed(1)} tok/s · ${tokens} · TTFT ${Math.round(s.timeToFirstTokenMs)} ms`;
}

const stopReasons: Record<GenerationStats['stopReason'], string> = {
  eos: 'end of text',
  max_tokens: 'max tokens reached',
  stop_string: 'stop string',
  user_stop: 'stopped by you',
  context_full: 'context full',
  error: 'error',
};

export function stopReasonLabel(r: GenerationStats['stopReason']): string {
  return stopReasons[r] ?? r;
}

/**
 * What the context-full policy did to a reply, or null when nothing was cut:
 * "context: truncate · 120 older prompt tokens left out" / "context: shift · shifted 2× (300 tokens)".
 */
export function contextNote(s: GenerationStats): string | null {
  const notes: string[] = [];
  if (s.truncatedTokens > 0) notes.push(`${grouped(s.truncatedTokens)} older prompt tokens left out`);
  if (s.contextShifts > 0) notes.push(`shifted ${s.contextShifts}× (${grouped(s.shiftedTokens)} tokens)`);
  if (s.stopReason === 'context_full') notes.push('reply cut: context full');
  return notes.length ? `context: ${s.contextPolicy} · ${notes.join(' · ')}` : null;
}

/** "just now", "5 min", "3 h", "Tue", "12 Mar" — for the conversation list. */
export function relativeTime(iso: string, now = Date.now()): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const s = Math.max(0, (now - t) / 1000);
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h`;
  const d = new Date(t);
  if (s < 6 * 86400) return d.toLocaleDateString('en-US', { weekday: 'short' });
  return d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short' });
}
