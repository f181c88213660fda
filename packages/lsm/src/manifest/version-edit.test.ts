import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isCorruptionError } from "../errors.js";
import { makeInternalKey, ValueType } from "../internal-key.js";
import { COMPARATOR_NAME, VersionEdit } from "./version-edit.js";

const ikey = fc
  .tuple(fc.uint8Array({ minLength: 1, maxLength: 10 }), fc.nat(1e9))
  .map(([k, s]) => makeInternalKey(k, s, ValueType.Value));

/** Turns byte arrays (Buffer or Uint8Array) into number arrays so only contents are compared. */
function plain(x: unknown): unknown {
  if (x instanceof Uint8Array) return [...x];
  if (Array.isArray(x)) return x.map(plain);
  if (x !== null && typeof x === "object") {
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, plain(v)]));
  }
  return x;
}

describe("version edit", () => {
  it("round-trips every field", () => {
    fc.assert(
      fc.property(
        fc.record({
          log: fc.option(fc.nat(1e9), { nil: undefined }),
          next: fc.option(fc.nat(1e9), { nil: undefined }),
          last: fc.option(fc.nat(Number.MAX_SAFE_INTEGER), { nil: undefined }),
          deleted: fc.array(fc.tuple(fc.nat(6), fc.nat(1e9)), { maxLength: 5 }),
          added: fc.array(fc.tuple(fc.nat(6), fc.nat(1e9), fc.nat(1e12), ikey, ikey), {
            maxLength: 5,
          }),
          pointers: fc.array(fc.tuple(fc.nat(6), ikey), { maxLength: 3 }),
        }),
        (r) => {
          const e = new VersionEdit();
          e.comparator = COMPARATOR_NAME;
          e.logNumber = r.log;
          e.nextFileNumber = r.next;
          e.lastSequence = r.last;
          for (const [level, n] of r.deleted) e.deleteFile(level, n);
          for (const [level, number, size, smallest, largest] of r.added) {
            e.addFile(level, { number, size, smallest, largest });
          }
          for (const [level, key] of r.pointers) e.compactPointers.push({ level, key });
          const d = VersionEdit.decode(e.encode(), "MANIFEST-000001", 0, 7);
          expect(plain(d)).toEqual(plain(e));
        },
      ),
    );
  });

  it("rejects unknown tags and out-of-range levels as corruption", () => {
    for (const bytes of [Uint8Array.of(99), Uint8Array.of(6, 9, 1)]) {
      let err: unknown;
      try {
        VersionEdit.decode(bytes, "MANIFEST-000001", 40, 7);
      } catch (e) {
        err = e;
      }
      expect(isCorruptionError(err)).toBe(true);
      expect((err as Error).message).toContain("MANIFEST-000001");
    }
  });
});
