/**
 * An injected logger. Gossip logs what an operator may need (members suspected, declared dead,
 * refutations, id conflicts, failed push-pulls) and is silent by default.
 */
export interface GossipLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

/** Drops everything. */
export const silentLogger: GossipLogger = Object.freeze({
  debug() {},
  info() {},
  warn() {},
});
