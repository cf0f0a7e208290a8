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

/** The wire code for an error the engine process reported: a file it can't read or run, else an engine error. */
export function fromEngineErrorCode(code: string): ErrorCode {
  return code === 'BAD_MODEL_FILE' || code === 'UNSUPPORTED' || code === 'IO' ? 'BAD_MODEL_FILE' : 'ENGINE_ERROR';
}

/** Maps anything thrown in the host to the wire form; anything not a PaddockError is INTERNAL. */
export function toWireError(err: unknown): WireError {
  if (err instanceof PaddockError) return { code: err.code, message: err.message };
  const message = typeof (err as { message?: unknown })?.message === 'string' ? (err as Error).message : String(err);
  return { code: 'INTERNAL', message };
}
