import { actorBytes } from "./actor.js";
import { allocBytes } from "./alloc.js";
import type { ResolvedCodecOptions } from "./codec-options.js";
import { InvalidContextError, LimitExceededError } from "./errors.js";
import { Reader } from "./reader.js";
import { varintSize, writeVarint } from "./varint.js";
import {
  assertVersionVector,
  MAX_COUNTER,
  type VersionVector,
  type VersionVectorEntry,
} from "./version-vector.js";

/**
 * First byte of a context token, format 1. Part of the wire format: do not change. The high
 * nibble names the kind (0 = context, 1 = sibling set), the low nibble the version, so a sibling
 * set passed as a context is rejected by name.
 *
 * Layout (varint = unsigned LEB128, minimal form):
 *   u8     0x01
 *   varint n                       number of entries, <= maxActors
 *   n x {  varint len              actor id length in UTF-8 bytes, 1..255
 *          len bytes               actor id, UTF-8
 *          varint counter }        1..2^53-1
 * Entries strictly ascending by actor (JavaScript string order). Nothing may follow.
 */
export const CONTEXT_FORMAT_V1 = 0x01;

/** Encodes a version vector as an opaque context token. */
export function encodeContextWith(vv: VersionVector, options: ResolvedCodecOptions): Uint8Array {
  // Tokens come back from clients, so never emit one the decoder would refuse.
  const actors = validatedActorBytes(vv);
  if (vv.length > options.maxActors) {
    throw new LimitExceededError(
      `version vector has ${vv.length} actors, more than maxActors (${options.maxActors})`,
    );
  }
  let size = 1 + varintSize(vv.length);
  for (let i = 0; i < vv.length; i++) {
    const len = actors[i]!.length;
    size += varintSize(len) + len + varintSize(vv[i]![1]);
  }
  const out = allocBytes(size);
  out[0] = CONTEXT_FORMAT_V1;
  let pos = writeVarint(out, 1, vv.length);
  pos = writeClockEntries(out, pos, vv, actors);
  // allocBytes does not zero: a short write would leak unrelated memory into the token.
  if (pos !== size) throw new Error(`internal: context size ${size}, wrote ${pos}`);
  return out;
}

/**
 * Checks the VersionVector invariants (throwing InvalidVersionVectorError like
 * assertVersionVector) and returns each actor's UTF-8 bytes, in one pass over cached actor ids.
 */
export function validatedActorBytes(vv: VersionVector): Uint8Array[] {
  if (!Array.isArray(vv)) assertVersionVector(vv);
  const out = new Array<Uint8Array>(vv.length);
  for (let i = 0; i < vv.length; i++) {
    const e = vv[i];
    const bytes = Array.isArray(e) && e.length === 2 ? actorBytes(e[0]) : undefined;
    if (
      bytes === undefined ||
      !Number.isSafeInteger(e![1]) ||
      e![1] < 1 ||
      (i > 0 && !(vv[i - 1]![0] < e![0]))
    ) {
      assertVersionVector(vv); // throws, with the precise reason
    }
    out[i] = bytes!;
  }
  return out;
}

/** Writes clock entries (len, actor bytes, counter); returns the position after them. */
export function writeClockEntries(
  out: Uint8Array,
  pos: number,
  vv: VersionVector,
  actors: readonly Uint8Array[],
): number {
  for (let i = 0; i < vv.length; i++) {
    const a = actors[i]!;
    pos = writeVarint(out, pos, a.length);
    if (a.length < 16) for (let k = 0; k < a.length; k++) out[pos + k] = a[k]!;
    else out.set(a, pos);
    pos += a.length;
    pos = writeVarint(out, pos, vv[i]![1]);
  }
  return pos;
}

function contextError(message: string, offset: number, cause?: unknown): Error {
  return new InvalidContextError(
    `invalid context token at byte ${offset}: ${message}`,
    offset,
    cause === undefined ? undefined : { cause },
  );
}

/** Reads `n` clock entries (shared with the sibling-set decoder). */
export function readClockEntries(r: Reader, n: number): VersionVectorEntry[] {
  const out: VersionVectorEntry[] = [];
  let previous = "";
  for (let i = 0; i < n; i++) {
    const start = r.pos;
    const actor = r.actor();
    if (i > 0 && !(previous < actor)) r.fail("actors are not strictly ascending", start);
    const counter = r.bounded("counter", 1, MAX_COUNTER);
    out.push([actor, counter]);
    previous = actor;
  }
  return out;
}

/** Decodes a context token; throws InvalidContextError on anything but a valid, exact token. */
export function decodeContextWith(bytes: Uint8Array, options: ResolvedCodecOptions): VersionVector {
  if (!(bytes instanceof Uint8Array)) {
    throw new InvalidContextError("context token must be a Uint8Array", 0);
  }
  const r = new Reader(bytes, contextError);
  const format = r.byte("format byte");
  if (format !== CONTEXT_FORMAT_V1) {
    r.fail(`unknown format byte 0x${format.toString(16).padStart(2, "0")}`, 0);
  }
  const n = r.bounded("actor count", 0, options.maxActors);
  const vv = readClockEntries(r, n);
  r.end();
  return vv;
}
