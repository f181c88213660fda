/**
 * Context values the one-port server hands to every handler. Handlers of long-lived streams
 * (the mux server) watch the drain signal to end their streams cleanly when the server stops,
 * instead of being cut off when the grace period runs out.
 */
import { createContextKey } from "@connectrpc/connect";

/** Aborted when the server begins a graceful stop; undefined outside createDistKVServer. */
export const drainSignalKey = createContextKey<AbortSignal | undefined>(undefined, {
  description: "distkv drain signal",
});
