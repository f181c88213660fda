/**
 * Builds a block of sorted entries with prefix compression.
 *
 * entry    = varint32 shared | varint32 unshared | varint32 valueLength | key[shared..] | value
 * trailer  = fixed32 restart offsets... | fixed32 restartCount
 *
 * Every `restartInterval` entries the key is stored whole (shared = 0); those restart points let
 * a reader binary-search the block and walk backwards. ON-DISK FORMAT: never change.
 */

import { ByteWriter } from "../util/byte-writer.js";

export class BlockBuilder {
  private readonly buf: ByteWriter;
  private restarts: number[] = [0];
  private counter = 0;
  private lastKey: Uint8Array = new Uint8Array(0);
  private entries = 0;

  constructor(
    readonly restartInterval: number,
    initialCapacity = 4096 + 512,
  ) {
    this.buf = new ByteWriter(initialCapacity);
  }

  /** Adds an entry; keys must be added in strictly increasing order (the caller checks). */
  add(key: Uint8Array, value: Uint8Array): void {
    let shared = 0;
    if (this.counter < this.restartInterval) {
      const last = this.lastKey;
      const n = Math.min(last.length, key.length);
      while (shared < n && last[shared] === key[shared]) shared++;
    } else {
      this.restarts.push(this.buf.length);
      this.counter = 0;
    }
    const b = this.buf;
    b.putVarint32(shared);
    b.putVarint32(key.length - shared);
    b.putVarint32(value.length);
    b.putBytes(key, shared);
    b.putBytes(value);
    this.lastKey = key;
    this.counter++;
    this.entries++;
  }

  /** Size the block would have if finished now. */
  estimatedSize(): number {
    return this.buf.length + this.restarts.length * 4 + 4;
  }

  empty(): boolean {
    return this.entries === 0;
  }

  count(): number {
    return this.entries;
  }

  /** The key most recently added. */
  last(): Uint8Array {
    return this.lastKey;
  }

  /** Appends the restart array and returns the block (a view valid until reset()). */
  finish(): Uint8Array {
    for (const r of this.restarts) this.buf.putFixed32(r);
    this.buf.putFixed32(this.restarts.length);
    return this.buf.view();
  }

  reset(): void {
    this.buf.reset();
    this.restarts = [0];
    this.counter = 0;
    this.entries = 0;
    this.lastKey = new Uint8Array(0);
  }
}
