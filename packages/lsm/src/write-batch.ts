/**
 * WriteBatch: a list of puts and deletes applied atomically by `db.write(batch)`.
 *
 * The batch is kept in its WAL encoding from the start so that writing it costs one copy.
 * ON-DISK FORMAT (the payload of every WAL record; do not change):
 *
 *   header  := sequence fixed64 LE (of the first record) | count fixed32 LE
 *   record  := type u8 (0 = delete, 1 = put) | varint32 keyLength | key
 *              [ | varint32 valueLength | value ]   (puts only)
 *
 * Record i of a batch gets sequence `sequence + i`. Group commit concatenates the records of
 * several batches under one header, so a WAL record is atomic: all of it replays or none.
 */

import { CorruptionError, InvalidArgumentError } from "./errors.js";
import { ValueType } from "./internal-key.js";
import {
  decodeFixed32,
  decodeFixed64,
  encodeFixed32,
  encodeFixed64,
  encodeVarint32,
  varintLength,
} from "./util/index.js";

export const BATCH_HEADER_BYTES = 12;

/** Rejects anything that is not a Uint8Array (Buffer is one) and, for keys, the empty key. */
export function assertKey(key: unknown, what = "key"): asserts key is Uint8Array {
  if (!(key instanceof Uint8Array)) {
    throw new InvalidArgumentError(
      `${what} must be a Uint8Array or Buffer, got ${describe(key)} (encode strings first, e.g. Buffer.from(s))`,
    );
  }
  if (key.length === 0) {
    throw new InvalidArgumentError(`${what} must not be empty`);
  }
}

export function assertValue(value: unknown): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new InvalidArgumentError(
      `value must be a Uint8Array or Buffer, got ${describe(value)} (encode strings first, e.g. Buffer.from(s))`,
    );
  }
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "object") return (v as object).constructor?.name ?? "object";
  return typeof v;
}

function copyInto(dst: Uint8Array, at: number, src: Uint8Array): number {
  const n = src.length;
  if (n < 32) {
    for (let i = 0; i < n; i++) dst[at + i] = src[i]!;
  } else {
    dst.set(src, at);
  }
  return at + n;
}

/** Size of one encoded record. */
export function recordLength(type: number, key: Uint8Array, value: Uint8Array | undefined): number {
  let n = 1 + varintLength(key.length) + key.length;
  if (type === ValueType.Value) n += varintLength(value!.length) + value!.length;
  return n;
}

/** Writes one record at `at`; returns the offset after it. */
export function writeRecord(
  dst: Uint8Array,
  at: number,
  type: number,
  key: Uint8Array,
  value: Uint8Array | undefined,
): number {
  dst[at++] = type;
  at = encodeVarint32(dst, at, key.length);
  at = copyInto(dst, at, key);
  if (type === ValueType.Value) {
    at = encodeVarint32(dst, at, value!.length);
    at = copyInto(dst, at, value!);
  }
  return at;
}

/**
 * A complete one-record batch encoding (the put/delete fast path). Sequence is set later.
 * Buffer.allocUnsafe takes small sizes from Node's pool; `new Uint8Array(n)` above 64 bytes
 * mallocs a backing store of its own (9% of a random put's CPU in a profile). Every byte is
 * written: the sequence by setBatchSequence before the record reaches the WAL.
 */
export function encodeSingle(
  type: number,
  key: Uint8Array,
  value: Uint8Array | undefined,
): Uint8Array {
  const out = Buffer.allocUnsafe(BATCH_HEADER_BYTES + recordLength(type, key, value));
  encodeFixed32(out, 8, 1);
  writeRecord(out, BATCH_HEADER_BYTES, type, key, value);
  return out;
}

export function setBatchSequence(rep: Uint8Array, seq: number): void {
  encodeFixed64(rep, 0, seq);
}

export function batchSequence(rep: Uint8Array): number {
  return decodeFixed64(rep, 0);
}

export function batchCount(rep: Uint8Array): number {
  return decodeFixed32(rep, 8);
}

/** Concatenates the records of several encoded batches under one header (group commit). */
export function mergeBatches(reps: readonly Uint8Array[]): Uint8Array {
  let total = BATCH_HEADER_BYTES;
  let count = 0;
  for (const r of reps) {
    total += r.length - BATCH_HEADER_BYTES;
    count += batchCount(r);
  }
  const out = new Uint8Array(total);
  let at = BATCH_HEADER_BYTES;
  for (const r of reps) {
    out.set(r.subarray(BATCH_HEADER_BYTES), at);
    at += r.length - BATCH_HEADER_BYTES;
  }
  encodeFixed32(out, 8, count);
  return out;
}

export type BatchVisitor = (seq: number, type: number, key: Uint8Array, value: Uint8Array) => void;

const EMPTY = new Uint8Array(0);

/**
 * Decodes `rep` and calls `visit` for each record with its sequence number. Keys and values are
 * views into `rep`. Malformed input (only possible from disk) throws CorruptionError naming
 * `file` and the absolute offset `baseOffset + position`.
 */
export function forEachBatchRecord(
  rep: Uint8Array,
  visit: BatchVisitor,
  file = "<batch>",
  baseOffset = 0,
): number {
  const fail = (at: number, reason: string): never => {
    throw new CorruptionError(file, baseOffset + at, `write batch: ${reason}`);
  };
  if (rep.length < BATCH_HEADER_BYTES) fail(0, "shorter than its 12-byte header");
  const seq0 = decodeFixed64(rep, 0);
  if (Number.isNaN(seq0)) fail(0, "sequence exceeds 2^53-1");
  const count = decodeFixed32(rep, 8);
  let pos = BATCH_HEADER_BYTES;
  const end = rep.length;
  const varint = (): number => {
    let result = 0;
    for (let shift = 0; shift <= 28; shift += 7) {
      if (pos >= end) fail(pos, "truncated varint");
      const b = rep[pos++]!;
      result |= (b & 0x7f) << shift;
      if (b < 0x80) return result >>> 0;
    }
    return fail(pos, "varint too long");
  };
  let n = 0;
  while (pos < end) {
    const start = pos;
    const type = rep[pos++]!;
    if (type !== ValueType.Value && type !== ValueType.Deletion)
      fail(start, `unknown type ${type}`);
    const kl = varint();
    if (pos + kl > end) fail(start, "truncated key");
    const key = rep.subarray(pos, pos + kl);
    pos += kl;
    let value: Uint8Array = EMPTY;
    if (type === ValueType.Value) {
      const vl = varint();
      if (pos + vl > end) fail(start, "truncated value");
      value = rep.subarray(pos, pos + vl);
      pos += vl;
    }
    visit(seq0 + n, type, key, value);
    n++;
  }
  if (n !== count) fail(8, `header says ${count} records, found ${n}`);
  return n;
}

/**
 * A batch of puts and deletes that `db.write()` applies atomically: after a crash either all of
 * them are there or none. Later operations on the same key win. A batch may be reused after
 * `clear()`; the database copies it on write.
 */
export class WriteBatch {
  private buf = new Uint8Array(256);
  private len = BATCH_HEADER_BYTES;
  private count = 0;
  /** @internal the longest key and value in the batch, checked against the db's limits. */
  maxKeyBytes = 0;
  /** @internal */
  maxValueBytes = 0;
  /** @internal sum of key and value lengths (user bytes, for write-amplification stats). */
  userBytes = 0;

  /** Adds a put of `key` -> `value`. */
  put(key: Uint8Array, value: Uint8Array): this {
    assertKey(key);
    assertValue(value);
    this.append(ValueType.Value, key, value);
    if (value.length > this.maxValueBytes) this.maxValueBytes = value.length;
    this.userBytes += value.length;
    return this;
  }

  /** Adds a delete of `key` (deleting a missing key is not an error). */
  delete(key: Uint8Array): this {
    assertKey(key);
    this.append(ValueType.Deletion, key, undefined);
    return this;
  }

  /** Removes every operation. */
  clear(): this {
    this.len = BATCH_HEADER_BYTES;
    this.count = 0;
    this.maxKeyBytes = 0;
    this.maxValueBytes = 0;
    this.userBytes = 0;
    return this;
  }

  /** Number of operations. */
  get length(): number {
    return this.count;
  }

  /** Encoded size in bytes (what the WAL record will take, without framing). */
  get byteLength(): number {
    return this.len;
  }

  /** @internal a copy of the encoding with the count filled in (sequence set at commit). */
  encode(): Uint8Array {
    const out = this.buf.slice(0, this.len);
    encodeFixed32(out, 8, this.count);
    return out;
  }

  private append(type: number, key: Uint8Array, value: Uint8Array | undefined): void {
    const n = recordLength(type, key, value);
    if (this.len + n > this.buf.length) {
      let cap = this.buf.length * 2;
      while (cap < this.len + n) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
    }
    this.len = writeRecord(this.buf, this.len, type, key, value);
    this.count++;
    if (key.length > this.maxKeyBytes) this.maxKeyBytes = key.length;
    this.userBytes += key.length;
  }
}

/** The slice of Memtable that insertBatch needs (kept structural to avoid an import cycle). */
export interface BatchSink {
  addRange(
    seq: number,
    type: number,
    key: Uint8Array,
    kStart: number,
    kEnd: number,
    value: Uint8Array,
    vStart: number,
    vEnd: number,
  ): void;
}

/**
 * Inserts every record of a batch this process encoded (so already known to be well formed)
 * into `sink` without creating views: the hot path of every write.
 */
export function insertBatch(rep: Uint8Array, sink: BatchSink): void {
  let seq = decodeFixed64(rep, 0);
  const end = rep.length;
  let pos = BATCH_HEADER_BYTES;
  while (pos < end) {
    const type = rep[pos++]!;
    let kl = 0;
    for (let shift = 0; ; shift += 7) {
      const b = rep[pos++]!;
      kl |= (b & 0x7f) << shift;
      if (b < 0x80) break;
    }
    const kStart = pos;
    pos += kl;
    if (type === ValueType.Value) {
      let vl = 0;
      for (let shift = 0; ; shift += 7) {
        const b = rep[pos++]!;
        vl |= (b & 0x7f) << shift;
        if (b < 0x80) break;
      }
      sink.addRange(seq, type, rep, kStart, kStart + kl, rep, pos, pos + vl);
      pos += vl;
    } else {
      sink.addRange(seq, type, rep, kStart, kStart + kl, rep, pos, pos);
    }
    seq++;
  }
}
