import { Buffer } from "node:buffer";
import { allocBytes } from "./alloc.js";
import type { ResolvedCodecOptions } from "./codec-options.js";
import { readClockEntries, validatedActorBytes, writeClockEntries } from "./context-codec.js";
import { InvalidEncodingError, InvalidSiblingSetError, LimitExceededError } from "./errors.js";
import { Reader } from "./reader.js";
import type { Sibling, SiblingSet } from "./sibling-set.js";
import { isValidTimestamp } from "./timestamp.js";
import { varintSize, writeVarint } from "./varint.js";

/**
 * First byte of an encoded sibling set, format 1 (kind 1, version 1). Part of the storage and
 * replication format: do not change.
 *
 * Layout (varint = unsigned LEB128, minimal form):
 *   u8     0x11
 *   varint a                       actors in the clock, <= maxActors
 *   a x {  varint len              actor id length in UTF-8 bytes, 1..255
 *          len bytes               actor id, UTF-8
 *          varint counter }        clock counter, 1..2^53-1
 *   varint s                       siblings, <= maxSiblings
 *   s x {  varint actor            index into the actor table above
 *          varint gap              clock counter - sibling counter (usually 0: the latest write)
 *          varint timestampMs      0..2^53-1
 *          varint tag              0 = tombstone, else value length + 1
 *          (tag - 1) bytes }       the value
 * Actors strictly ascending (JavaScript string order); siblings strictly ascending by
 * (actor index, counter). Nothing may follow. Every dot is covered by the clock by construction
 * (gap >= 0), and counters stay >= 1.
 */
export const SIBLING_SET_FORMAT_V1 = 0x11;

function invalid(message: string): never {
  throw new InvalidSiblingSetError(message);
}

/** Encodes a sibling set of byte values (null = tombstone). Validates the set as it goes. */
export function encodeSiblingSetWith(
  set: SiblingSet<Uint8Array>,
  options: ResolvedCodecOptions,
): Uint8Array {
  const clock = set.clock;
  const siblings = set.siblings;
  const actors = validatedActorBytes(clock);
  if (clock.length > options.maxActors) {
    throw new LimitExceededError(
      `clock has ${clock.length} actors, more than maxActors (${options.maxActors})`,
    );
  }
  if (siblings.length > options.maxSiblings) {
    throw new LimitExceededError(
      `set has ${siblings.length} siblings, more than maxSiblings (${options.maxSiblings})`,
    );
  }
  let size = 1 + varintSize(clock.length) + varintSize(siblings.length);
  for (let i = 0; i < clock.length; i++) {
    const len = actors[i]!.length;
    size += varintSize(len) + len + varintSize(clock[i]![1]);
  }
  // One pass resolves each sibling's actor index and checks order and coverage.
  const indexes = new Array<number>(siblings.length);
  let k = 0;
  for (let i = 0; i < siblings.length; i++) {
    const s = siblings[i]!;
    if (i > 0) {
      const p = siblings[i - 1]!;
      if (!(p.actor < s.actor || (p.actor === s.actor && p.counter < s.counter))) {
        invalid("siblings are not strictly ascending by dot");
      }
    }
    while (k < clock.length && clock[k]![0] < s.actor) k++;
    const e = clock[k];
    if (e === undefined || e[0] !== s.actor)
      invalid(`sibling actor ${JSON.stringify(s.actor)} is not in the clock`);
    if (!Number.isSafeInteger(s.counter) || s.counter < 1 || s.counter > e[1]) {
      invalid(`sibling (${s.actor}, ${String(s.counter)}) is not covered by the clock`);
    }
    if (!isValidTimestamp(s.timestampMs)) invalid("sibling timestampMs must be an integer >= 0");
    const v = s.value;
    if (v !== null && !(v instanceof Uint8Array))
      invalid("sibling value must be a Uint8Array or null");
    indexes[i] = k;
    size +=
      varintSize(k) +
      varintSize(e[1] - s.counter) +
      varintSize(s.timestampMs) +
      (v === null ? 1 : varintSize(v.length + 1) + v.length);
  }
  const out = allocBytes(size);
  out[0] = SIBLING_SET_FORMAT_V1;
  let pos = writeVarint(out, 1, clock.length);
  pos = writeClockEntries(out, pos, clock, actors);
  pos = writeVarint(out, pos, siblings.length);
  for (let i = 0; i < siblings.length; i++) {
    const s = siblings[i]!;
    const idx = indexes[i]!;
    pos = writeVarint(out, pos, idx);
    pos = writeVarint(out, pos, clock[idx]![1] - s.counter);
    pos = writeVarint(out, pos, s.timestampMs);
    const v = s.value;
    if (v === null) out[pos++] = 0;
    else {
      pos = writeVarint(out, pos, v.length + 1);
      out.set(v, pos);
      pos += v.length;
    }
  }
  // allocBytes does not zero: a short write would leak unrelated memory into storage.
  if (pos !== size) throw new Error(`internal: sibling set size ${size}, wrote ${pos}`);
  return out;
}

/**
 * Replaces the value views into the input by copies, all in one allocation: a slice per value
 * would pay a separate ArrayBuffer for each (the dominant decode cost for small values).
 */
function copyValuesOut(siblings: Sibling<Uint8Array>[], total: number): void {
  const pool = Buffer.allocUnsafe(total);
  let off = 0;
  for (let i = 0; i < siblings.length; i++) {
    const s = siblings[i]!;
    const v = s.value;
    if (v === null) continue;
    pool.set(v, off);
    siblings[i] = {
      actor: s.actor,
      counter: s.counter,
      value: new Uint8Array(pool.buffer, pool.byteOffset + off, v.length),
      timestampMs: s.timestampMs,
    };
    off += v.length;
  }
}

function encodingError(message: string, offset: number, cause?: unknown): Error {
  return new InvalidEncodingError(
    `invalid sibling set encoding at byte ${offset}: ${message}`,
    offset,
    cause === undefined ? undefined : { cause },
  );
}

/** Decodes a sibling set; throws InvalidEncodingError on anything but a valid, exact encoding. */
export function decodeSiblingSetWith(
  bytes: Uint8Array,
  options: ResolvedCodecOptions,
): SiblingSet<Uint8Array> {
  if (!(bytes instanceof Uint8Array)) {
    throw new InvalidEncodingError("sibling set encoding must be a Uint8Array", 0);
  }
  const r = new Reader(bytes, encodingError);
  const format = r.byte("format byte");
  if (format !== SIBLING_SET_FORMAT_V1) {
    r.fail(`unknown format byte 0x${format.toString(16).padStart(2, "0")}`, 0);
  }
  const na = r.bounded("actor count", 0, options.maxActors);
  const clock = readClockEntries(r, na);
  const ns = r.bounded("sibling count", 0, options.maxSiblings);
  const siblings: Sibling<Uint8Array>[] = [];
  let prevIndex = -1;
  let prevCounter = 0;
  let valueBytes = 0;
  for (let i = 0; i < ns; i++) {
    const start = r.pos;
    // An empty clock makes the bound [0, -1]: any index fails, as it should.
    const idx = r.bounded("sibling actor index", 0, na - 1);
    const e = clock[idx]!;
    const gap = r.bounded("sibling counter gap", 0, e[1] - 1);
    const counter = e[1] - gap;
    if (idx < prevIndex || (idx === prevIndex && counter <= prevCounter)) {
      r.fail("siblings are not strictly ascending by dot", start);
    }
    const timestampMs = r.varint("sibling timestampMs");
    const tagAt = r.pos;
    const tag = r.varint("sibling value tag");
    let value: Uint8Array | null = null;
    if (tag !== 0) {
      const len = tag - 1;
      if (len > r.remaining) r.fail(`truncated: value of ${len} bytes is cut off`, tagAt);
      value = bytes.subarray(r.pos, r.pos + len);
      r.pos += len;
      valueBytes += len;
    }
    siblings.push({ actor: e[0], counter, value, timestampMs });
    prevIndex = idx;
    prevCounter = counter;
  }
  r.end();
  if (options.copyValues && valueBytes > 0) copyValuesOut(siblings, valueBytes);
  return { clock, siblings };
}
