// Ids the renderer picks for jobs whose progress streams back as events (GAtt synthesis, evals,
// compare replies), so it can listen before the call returns.
export function newJobId(prefix: string): string {
  const random = globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  return `${prefix}-${random}`;
}
