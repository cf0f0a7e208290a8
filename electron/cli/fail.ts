// CLI errors: one line on stderr naming the problem, non-zero exit, never a stack trace for user errors.
export class UsageError extends Error {}

export function fail(err: unknown): never {
  const e = err as { message?: string; code?: string };
  const msg = e?.message ?? String(err);
  process.stderr.write(`paddock: ${e?.code && !(err instanceof UsageError) ? `${e.code}: ` : ''}${msg}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
}

export function numberArg(name: string, v: string | undefined, fallback: number, integer = false): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new UsageError(`--${name} expects a ${integer ? 'whole ' : ''}number, got "${v}"`);
  return n;
}
