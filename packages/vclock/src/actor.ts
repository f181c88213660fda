import { InvalidActorError } from "./errors.js";
import { utf8ByteLength } from "./utf8.js";

/**
 * Longest actor id in UTF-8 bytes. Part of the encoding formats (a decoder rejects longer
 * ids): do not lower it. Node ids are far shorter; the bound keeps hostile tokens cheap to reject.
 */
export const MAX_ACTOR_BYTES = 255;

// A lone surrogate cannot be encoded in UTF-8 and back, so such an id would not round-trip.
const LONE_SURROGATE = /\p{Cs}/u;

/** Why `actor` is not a valid actor id, or undefined when it is. */
export function actorProblem(actor: unknown): string | undefined {
  if (typeof actor !== "string") return `actor id must be a string, got ${typeof actor}`;
  if (actor.length === 0) return "actor id must not be empty";
  if (LONE_SURROGATE.test(actor)) return "actor id contains a lone UTF-16 surrogate";
  const bytes = utf8ByteLength(actor);
  if (bytes > MAX_ACTOR_BYTES) {
    return `actor id is ${bytes} UTF-8 bytes, more than MAX_ACTOR_BYTES (${MAX_ACTOR_BYTES})`;
  }
  return undefined;
}

/** True if `actor` can be used as an actor id (non-empty, well formed, <= MAX_ACTOR_BYTES). */
export function isValidActor(actor: unknown): actor is string {
  return actorProblem(actor) === undefined;
}

/** Throws InvalidActorError unless `actor` is a valid actor id. */
export function assertValidActor(actor: unknown): asserts actor is string {
  const problem = actorProblem(actor);
  if (problem !== undefined) throw new InvalidActorError(problem);
}

// Actor ids are a handful of node ids repeated on every request: remembering each one's UTF-8
// bytes (found valid once) spares the encoders re-validating and re-encoding it per call. The
// cap bounds memory if a stream of distinct ids goes by; clearing is crude but keeps it O(1).
const ACTOR_BYTES_CACHE_MAX = 4096;
const actorBytesCache = new Map<string, Uint8Array>();
const utf8Encoder = new TextEncoder();

/** The UTF-8 bytes of a valid actor id (cached; do not modify), or undefined if it is invalid. */
export function actorBytes(actor: unknown): Uint8Array | undefined {
  if (typeof actor !== "string") return undefined;
  const cached = actorBytesCache.get(actor);
  if (cached !== undefined) return cached;
  if (actorProblem(actor) !== undefined) return undefined;
  if (actorBytesCache.size >= ACTOR_BYTES_CACHE_MAX) actorBytesCache.clear();
  const bytes = utf8Encoder.encode(actor);
  actorBytesCache.set(actor, bytes);
  return bytes;
}
