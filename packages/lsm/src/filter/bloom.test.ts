import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BloomFilterBuilder, bloomMayContainHash, bloomProbe, bloomShape } from "./bloom.js";

/** The probe sequence as first written, in plain (floating-point) arithmetic. */
function reference(filter: Uint8Array, hash: number): boolean {
  const bytes = filter.length - 1;
  const bits = bytes * 8;
  const k = filter[bytes]!;
  if (filter.length < 2 || k > 30 || k === 0) return true;
  let h = hash;
  const delta = ((h >>> 17) | (h << 15)) >>> 0;
  for (let j = 0; j < k; j++) {
    const pos = h % bits;
    if ((filter[Math.floor(pos / 8)]! & (1 << (pos % 8))) === 0) return false;
    h = (h + delta) >>> 0;
  }
  return true;
}

describe("bloom filter probes", () => {
  it("the integer probe agrees with the reference for every hash, including those >= 2^31", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 200 }),
        (added, bitsPerKey, probes) => {
          const b = new BloomFilterBuilder(bitsPerKey);
          for (const h of added) b.addHash(h);
          const f = b.finish();
          const { bits, probes: k } = bloomShape(f);
          for (const h of [...added, ...probes]) {
            expect(bloomMayContainHash(f, h)).toBe(reference(f, h));
            expect(bloomProbe(f, bits, k, h)).toBe(reference(f, h));
          }
          for (const h of added) expect(bloomMayContainHash(f, h)).toBe(true);
        },
      ),
    );
  });

  it("filters it cannot read say yes to everything", () => {
    expect(bloomShape(new Uint8Array(1)).probes).toBe(0);
    expect(bloomShape(Uint8Array.of(0xff, 31)).probes).toBe(0); // reserved probe count
    expect(bloomMayContainHash(Uint8Array.of(0, 0), 5)).toBe(true); // 0 probes
    expect(bloomMayContainHash(Uint8Array.of(0, 3), 5)).toBe(false); // empty bits, 3 probes
  });
});
