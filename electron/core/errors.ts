// Errors that carry a stable code across every boundary (engine -> host -> renderer).
import type { ErrorCode, WireError } from '../shared/contract';

export class PaddockError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PaddockError';
  }
}

const knownCodes = new Set<string>([
  'BAD_REQUEST', 'NOT_FOUND', 'BAD_MODEL_FILE', 'ENGINE_CRASHED', 'ENGINE_ERROR', 'BUSY', 'UNAUTHORIZED', 'INTERNAL',
]);

/** Maps anything thrown to the wire form; native codes other than BAD_MODEL_FILE become ENGINE_ERROR. */
export function toWireError(err: unknown): WireError {
  if (err instanceof PaddockError) return { code: err.code, message: err.message };
  const e = err as { code?: unknown; message?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (typeof e?.code === 'string' && knownCodes.has(e.code)) return { code: e.code as ErrorCode, message };
  if (typeof e?.code === 'string' && ['IO', 'UNSUPPORTED', 'OUT_OF_MEMORY', 'INVALID_ARGUMENT'].includes(e.code)) {
    return { code: e.code === 'UNSUPPORTED' || e.code === 'IO' ? 'BAD_MODEL_FILE' : 'ENGINE_ERROR', message };
  }
  return { code: 'INTERNAL', message };
}

export function fromWireError(w: WireError): PaddockError {
  return new PaddockError(w.code, w.message);
}
