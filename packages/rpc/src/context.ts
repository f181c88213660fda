/**
 * Context values the one-port server hands to every handler. Handlers of long-lived streams
 * (the mux server) watch the drain signal to end their streams cleanly when the server stops,
 * instead of being cut off when the grace period runs out, and adopt the byte charges of the
 * messages they receive so the server's in-flight limits follow the calls they run.
 */
import { createContextKey } from "@connectrpc/connect";
import type { MessageCharge } from "./request-meter.js";

/** Aborted when the server begins a graceful stop; undefined outside createDistKVServer. */
export const drainSignalKey = createContextKey<AbortSignal | undefined>(undefined, {
  description: "distkv drain signal",
});

/** What a stream handler sees of its request's meter (request-meter.ts). */
export interface StreamMeter {
  /** The charge of the message just received; the handler releases it as it finishes. */
  adopt(): MessageCharge | undefined;
}

/** The meter of a streaming request; undefined outside createDistKVServer and for unary. */
export const streamMeterKey = createContextKey<StreamMeter | undefined>(undefined, {
  description: "distkv stream meter",
});
