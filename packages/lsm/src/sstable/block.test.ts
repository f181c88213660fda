import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareBytes } from "../util/compare-bytes.js";
import { BlockBuilder } from "./block-builder.js";
import { BlockIterator } from "./block-reader.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

// Keys from a small alphabet so that many share prefixes (exercises prefix compression).
const keyArb = fc.uint8Array({ minLength: 0, maxLength: 12 }).map((a) => a.map((x) => x % 4));
const entriesArb = fc
  .uniqueArray(keyArb, { selector: hex, minLength: 1, maxLength: 200 })
  .chain((keys) =>
    fc.tuple(
      fc.constant(keys.sort(compareBytes)),
      fc.array(fc.uint8Array({ maxLength: 40 }), {
        minLength: keys.length,
        maxLength: keys.length,
      }),
    ),
  );

function build(keys: Uint8Array[], values: Uint8Array[], interval: number): Uint8Array {
  const b = new BlockBuilder(interval);
  for (const [i, k] of keys.entries()) b.add(k, values[i]!);
  return b.finish().slice();
}

function lowerBound(keys: Uint8Array[], t: Uint8Array): number {
  let i = 0;
  while (i < keys.length && compareBytes(keys[i]!, t) < 0) i++;
  return i;
}

describe("block builder/reader", () => {
  it("matches a sorted-array model for iteration, seek, next and prev", () => {
    fc.assert(
      fc.property(
        entriesArb,
        fc.integer({ min: 1, max: 20 }),
        fc.array(
          fc.oneof(
            fc.constant({ op: "next" as const }),
            fc.constant({ op: "prev" as const }),
            fc.constant({ op: "first" as const }),
            fc.constant({ op: "last" as const }),
            keyArb.map((t) => ({ op: "seek" as const, t })),
          ),
          { maxLength: 60 },
        ),
        ([keys, values], interval, ops) => {
          const block = build(keys, values, interval);
          const it = new BlockIterator(block, compareBytes);
          // Full forward and backward scans.
          const fwd: string[] = [];
          for (it.seekToFirst(); it.valid(); it.next())
            fwd.push(`${hex(it.key())}=${hex(it.value())}`);
          const want = keys.map((k, i) => `${hex(k)}=${hex(values[i]!)}`);
          expect(fwd).toEqual(want);
          const bwd: string[] = [];
          for (it.seekToLast(); it.valid(); it.prev())
            bwd.push(`${hex(it.key())}=${hex(it.value())}`);
          expect(bwd).toEqual([...want].reverse());
          // Random walk against the model position (-1 or keys.length = invalid).
          let pos = -1;
          for (const o of ops) {
            if (pos < 0 || pos >= keys.length) {
              if (o.op === "next" || o.op === "prev") continue;
            }
            if (o.op === "next") {
              it.next();
              pos++;
            } else if (o.op === "prev") {
              it.prev();
              pos--;
            } else if (o.op === "first") {
              it.seekToFirst();
              pos = 0;
            } else if (o.op === "last") {
              it.seekToLast();
              pos = keys.length - 1;
            } else {
              it.seek(o.t);
              pos = lowerBound(keys, o.t);
            }
            const modelValid = pos >= 0 && pos < keys.length;
            expect(it.valid()).toBe(modelValid);
            if (modelValid) {
              expect(hex(it.key())).toBe(hex(keys[pos]!));
              expect(hex(it.value())).toBe(hex(values[pos]!));
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("keys it returned stay unchanged after the iterator moves on", () => {
    const keys = Array.from({ length: 100 }, (_, i) =>
      new TextEncoder().encode(`key-${String(i).padStart(4, "0")}`),
    );
    const block = build(keys, keys, 16);
    const it = new BlockIterator(block, compareBytes);
    const seen: Uint8Array[] = [];
    for (it.seekToFirst(); it.valid(); it.next()) seen.push(it.key());
    expect(seen.map(hex)).toEqual(keys.map(hex));
  });

  it("an empty block has no entries", () => {
    const it = new BlockIterator(new BlockBuilder(16).finish().slice(), compareBytes);
    it.seekToFirst();
    expect(it.valid()).toBe(false);
    it.seek(Uint8Array.of(1));
    expect(it.valid()).toBe(false);
    it.seekToLast();
    expect(it.valid()).toBe(false);
  });

  it("structurally damaged blocks throw CorruptionError (never wrong keys beyond the block)", () => {
    expect(() => new BlockIterator(Uint8Array.of(1, 2), compareBytes, "f.sst", 7)).toThrow(
      /f.sst at offset 7/,
    );
    // Restart count larger than the block.
    const bad = Uint8Array.of(0, 0, 0, 0, 9, 0, 0, 0);
    expect(() => new BlockIterator(bad, compareBytes)).toThrow(/bad restart count/);
    // An entry whose lengths run past the restart array.
    const keys = [Uint8Array.of(1), Uint8Array.of(2)];
    const block = build(keys, keys, 16);
    block[2] = 0x7f; // value length of the first entry
    const it = new BlockIterator(block, compareBytes, "g.sst", 100);
    expect(() => it.seekToFirst()).toThrow(/corruption in g.sst at offset 100/);
  });
});
