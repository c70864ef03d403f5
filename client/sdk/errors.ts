/**
 * Every error Oriole reports to a user carries a stable machine-readable
 * `code` and a short human message. `details` holds the offending values.
 */
export class OrioleError extends Error {
  readonly code: string;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: string, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "OrioleError";
    this.code = code;
    this.details = details;
  }
}

export function isOrioleError(e: unknown): e is OrioleError {
  return e instanceof OrioleError;
}
