import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MergingIterator } from "./merging-iterator.js";
import type { InternalIterator } from "./types.js";

/** A sorted array as an InternalIterator. */
class ArrayIterator implements InternalIterator {
  private i = -1;
  constructor(private readonly keys: Uint8Array[]) {}
  valid(): boolean {
    return this.i >= 0 && this.i < this.keys.length;
  }
  seekToFirst(): void {
    this.i = 0;
  }
  seekToLast(): void {
    this.i = this.keys.length - 1;
  }
  seek(t: Uint8Array): void {
    this.i = this.keys.findIndex((k) => Buffer.compare(k, t) >= 0);
    if (this.i < 0) this.i = this.keys.length;
  }
  next(): void {
    this.i++;
  }
  prev(): void {
    this.i--;
  }
  key(): Uint8Array {
    return this.keys[this.i]!;
  }
  value(): Uint8Array {
    return this.keys[this.i]!;
  }
}

describe("merging iterator", () => {
  it("walks the union of distinct sorted children in order, switching direction at will", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 500 }), { maxLength: 60 }),
        fc.nat(4),
        fc.array(fc.constantFrom("next", "prev"), { maxLength: 80 }),
        fc.integer({ min: -1, max: 501 }),
        (all, extra, moves, seekTo) => {
          const nChildren = extra + 1;
          const parts: number[][] = Array.from({ length: nChildren }, () => []);
          all.forEach((x, i) => {
            parts[i % nChildren]!.push(x);
          });
          const enc = (x: number) => Uint8Array.of(x >> 8, x & 0xff);
          const children = parts.map((p) => new ArrayIterator(p.sort((a, b) => a - b).map(enc)));
          const m = new MergingIterator((a, b) => Buffer.compare(a, b), children);
          const sorted = [...all].sort((a, b) => a - b);
          let pos: number;
          if (seekTo < 0) {
            m.seekToLast();
            pos = sorted.length - 1;
          } else {
            m.seek(enc(seekTo));
            pos = sorted.findIndex((x) => x >= seekTo);
            if (pos < 0) pos = sorted.length;
          }
          for (const mv of moves) {
            const valid = pos >= 0 && pos < sorted.length;
            expect(m.valid()).toBe(valid);
            if (!valid) break;
            expect([...m.key()]).toEqual([...enc(sorted[pos]!)]);
            if (mv === "next") {
              m.next();
              pos++;
            } else {
              m.prev();
              pos--;
            }
          }
        },
      ),
    );
  });
});
