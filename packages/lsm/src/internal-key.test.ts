import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  compareInternalKeys,
  extractUserKey,
  internalKeySequence,
  internalKeyType,
  MAX_SEQUENCE,
  makeInternalKey,
  ValueType,
} from "./internal-key.js";

const userKey = fc.uint8Array({ maxLength: 20 });
const seq = fc.oneof(fc.nat(1000), fc.integer({ min: 0, max: MAX_SEQUENCE }));
const type = fc.constantFrom(ValueType.Deletion, ValueType.Value);

describe("internal keys", () => {
  it("round-trip user key, sequence (up to 2^53-1) and type", () => {
    fc.assert(
      fc.property(userKey, seq, type, (k, s, t) => {
        const ik = makeInternalKey(k, s, t);
        expect(extractUserKey(ik)).toEqual(k);
        expect(internalKeySequence(ik)).toBe(s);
        expect(internalKeyType(ik)).toBe(t);
      }),
    );
  });

  it("order by user key ascending, then sequence descending, then type descending", () => {
    fc.assert(
      fc.property(userKey, seq, type, userKey, seq, type, (k1, s1, t1, k2, s2, t2) => {
        const a = makeInternalKey(k1, s1, t1);
        const b = makeInternalKey(k2, s2, t2);
        const byUser = Buffer.compare(k1, k2);
        const expected = byUser !== 0 ? byUser : s1 !== s2 ? (s1 > s2 ? -1 : 1) : t2 - t1;
        expect(Math.sign(compareInternalKeys(a, b))).toBe(Math.sign(expected));
      }),
    );
  });
});
