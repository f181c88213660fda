/**
 * An injected logger; the components log only what an operator may need (background failures:
 * read repair, hint delivery) and are silent by default.
 */
export interface QuorumLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

/** Drops everything. */
export const silentLogger: QuorumLogger = Object.freeze({
  debug() {},
  warn() {},
});
