import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fnvHash64, fnvHash64Mod } from "../src/fnv-hash.js";
import {
  AcknowledgedCounter,
  SCRAMBLED_ITEM_COUNT,
  ScrambledZipfianChooser,
  SkewedLatestChooser,
  UniformChooser,
  ZIPFIAN_CONSTANT,
  ZipfianChooser,
} from "../src/generators.js";
import { Random } from "../src/random.js";
import { zeta, zetaRangeDirect } from "../src/zeta.js";
import { chiSquare, chiSquareBound, grayZipfian } from "./chi-square.js";

/** YCSB's fnvhash64 written the obvious way with BigInt, as the reference. */
function fnvReference(value: bigint): bigint {
  const mask = (1n << 64n) - 1n;
  let h = 0xcbf29ce484222325n;
  let v = value;
  for (let i = 0; i < 8; i++) {
    h ^= v & 0xffn;
    v >>= 8n;
    h = (h * 1099511628211n) & mask;
  }
  // Java's Math.abs on the signed 64-bit value.
  return h >= 1n << 63n ? (1n << 64n) - h : h;
}

function counts(draw: () => number, n: number, samples: number): number[] {
  const c = new Array<number>(n).fill(0);
  for (let i = 0; i < samples; i++) c[draw()]!++;
  return c;
}

describe("Random", () => {
  it("is deterministic for a seed and differs between seeds", () => {
    const a = new Random(7);
    const b = new Random(7);
    const c = new Random(8);
    const xs = Array.from({ length: 20 }, () => a.nextUint32());
    expect(Array.from({ length: 20 }, () => b.nextUint32())).toEqual(xs);
    expect(Array.from({ length: 20 }, () => c.nextUint32())).not.toEqual(xs);
  });

  it("draws doubles in [0, 1) and integers uniformly (chi-square, 50 buckets)", () => {
    const r = new Random(1);
    for (let i = 0; i < 10_000; i++) {
      const d = r.nextDouble();
      expect(d >= 0 && d < 1).toBe(true);
    }
    const c = counts(() => r.nextInt(50), 50, 100_000);
    expect(chiSquare(c, new Array(50).fill(2000))).toBeLessThan(chiSquareBound(49));
  });
});

describe("fnvHash64 (YCSB's fnvhash64)", () => {
  it("matches a BigInt reference for any integer below 2^53", () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.integer({ min: 1, max: 2 ** 32 - 1 }), (v, n) => {
        const ref = fnvReference(BigInt(v));
        const h = fnvHash64(v);
        expect((BigInt(h.hi) << 32n) | BigInt(h.lo)).toBe(ref);
        expect(fnvHash64Mod(v, n)).toBe(Number(ref % BigInt(n)));
      }),
      { numRuns: 2000 },
    );
  });

  it("matches the reference on edge values", () => {
    for (const v of [0, 1, 255, 256, 2 ** 32 - 1, 2 ** 32, SCRAMBLED_ITEM_COUNT, 2 ** 53 - 1]) {
      const h = fnvHash64(v);
      expect((BigInt(h.hi) << 32n) | BigInt(h.lo)).toBe(fnvReference(BigInt(v)));
    }
  });
});

describe("zeta", () => {
  it("is the direct sum for small n", () => {
    expect(zeta(0, 0.99)).toBe(0);
    expect(zeta(1, 0.99)).toBe(1);
    expect(zeta(3, 0.5)).toBeCloseTo(1 + 1 / Math.SQRT2 + 1 / Math.sqrt(3), 12);
  });

  it("agrees with the direct sum past the Euler-Maclaurin switch", () => {
    const n = 1_500_000;
    expect(Math.abs(zeta(n, 0.99) / zetaRangeDirect(0, n, 0.99) - 1)).toBeLessThan(1e-11);
  });

  it("reproduces YCSB's precomputed zeta(10^10, 0.99) = 26.46902820178302", () => {
    expect(Math.abs(zeta(SCRAMBLED_ITEM_COUNT, 0.99) / 26.46902820178302 - 1)).toBeLessThan(1e-9);
  });
});

describe("ZipfianChooser", () => {
  const n = 100;
  const samples = 200_000;
  const zn = zeta(n, ZIPFIAN_CONSTANT);
  const ideal = Array.from({ length: n }, (_, i) => 1 / ((i + 1) ** 0.99 * zn));
  const z = new ZipfianChooser(new Random(3), n);
  const c = counts(() => z.next(), n, samples);

  it("gives the two hottest items their exact zipfian shares (1/zeta, 0.5^0.99/zeta)", () => {
    for (const i of [0, 1]) {
      const p = ideal[i]!;
      expect(Math.abs(c[i]! / samples - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / samples));
    }
    // 1 / zeta(100, 0.99) = 18.9%
    expect(ideal[0]).toBeCloseTo(0.1889, 4);
  });

  it("draws every item as YCSB's algorithm does (chi-square against its exact distribution)", () => {
    const gray = grayZipfian(n, ZIPFIAN_CONSTANT, zn, n);
    expect(gray.reduce((a, b) => a + b)).toBeCloseTo(1, 9);
    expect(
      chiSquare(
        c,
        gray.map((p) => p * samples),
      ),
    ).toBeLessThan(chiSquareBound(n - 1));
    // The algorithm approximates a true zipfian within 2.5% total variation.
    const tv = gray.reduce((s, p, i) => s + Math.abs(p - ideal[i]!), 0) / 2;
    expect(tv).toBeLessThan(0.025);
  });

  it("a uniform sample fails the same test (the check has teeth)", () => {
    const u = new UniformChooser(new Random(3), n);
    const uc = counts(() => u.next(), n, samples);
    const gray = grayZipfian(n, ZIPFIAN_CONSTANT, zn, n);
    expect(
      chiSquare(
        uc,
        gray.map((p) => p * samples),
      ),
    ).toBeGreaterThan(chiSquareBound(n - 1));
  });

  it("stays in range while the item count grows", () => {
    const z = new ZipfianChooser(new Random(4), 10);
    for (let count = 10; count < 2000; count += 7) {
      const v = z.nextFrom(count);
      expect(v >= 0 && v < count).toBe(true);
    }
  });
});

describe("UniformChooser", () => {
  it("spreads keys evenly (chi-square, 200 keys)", () => {
    const c = counts(() => new UniformChooser(new Random(5), 200).next(), 200, 1);
    expect(c.reduce((a, b) => a + b)).toBe(1);
    const u = new UniformChooser(new Random(5), 200);
    const many = counts(() => u.next(), 200, 200_000);
    expect(chiSquare(many, new Array(200).fill(1000))).toBeLessThan(chiSquareBound(199));
  });
});

describe("ScrambledZipfianChooser", () => {
  const n = 1000;
  const samples = 300_000;
  // Theory: item i of the 10^10-item zipfian has the probability YCSB's algorithm gives it
  // (1 / zeta(10^10) for item 0) and lands on key fnv(i) mod n. Items below M are added up exactly; the rest (~46% of the mass,
  // millions of items per key) spread evenly, which is what a good hash does.
  const M = 1_000_000;
  const zn = zeta(SCRAMBLED_ITEM_COUNT, ZIPFIAN_CONSTANT);
  const itemP = grayZipfian(SCRAMBLED_ITEM_COUNT, ZIPFIAN_CONSTANT, zn, M);
  const theory = new Array<number>(n).fill(0);
  let head = 0;
  for (let i = 0; i < M; i++) {
    theory[fnvHash64Mod(i, n)]! += itemP[i]!;
    head += itemP[i]!;
  }
  for (let k = 0; k < n; k++) theory[k]! += (1 - head) / n;

  const chooser = new ScrambledZipfianChooser(new Random(11), n);
  const observed = counts(() => chooser.next(), n, samples);

  it("gives the hottest key the share theory predicts", () => {
    const hottest = fnvHash64Mod(0, n);
    expect(observed.indexOf(Math.max(...observed))).toBe(hottest);
    const p = theory[hottest]!;
    // 1/zeta(10^10) = 3.78% from item 0 alone, plus what collides with it.
    expect(p).toBeGreaterThan(1 / zn);
    expect(chooser.hottestItemProbability).toBeCloseTo(1 / zn, 12);
    const sigma = Math.sqrt((p * (1 - p)) / samples);
    expect(Math.abs(observed[hottest]! / samples - p)).toBeLessThan(5 * sigma);
  });

  it("matches the theoretical distribution over all keys (chi-square)", () => {
    const expected = theory.map((p) => p * samples);
    expect(chiSquare(observed, expected)).toBeLessThan(chiSquareBound(n - 1));
    // ...and is clearly not uniform.
    expect(chiSquare(observed, new Array(n).fill(samples / n))).toBeGreaterThan(
      10 * chiSquareBound(n - 1),
    );
  });

  it("scatters the popular keys instead of clustering them at low numbers", () => {
    const top = observed
      .map((c, k) => ({ c, k }))
      .sort((a, b) => b.c - a.c)
      .slice(0, 10)
      .map((x) => x.k);
    expect(top.filter((k) => k < 10).length).toBeLessThan(5);
  });
});

describe("SkewedLatestChooser and AcknowledgedCounter", () => {
  it("reads the newest acknowledged item most, with zipfian recency", () => {
    const last = 1000;
    const chooser = new SkewedLatestChooser(new Random(9), () => last);
    const samples = 100_000;
    let outside = 0;
    const ages = counts(
      () => {
        const item = chooser.next();
        if (item < 1 || item > last) outside++;
        return last - item;
      },
      last,
      samples,
    );
    expect(outside).toBe(0);
    const zn = zeta(last, ZIPFIAN_CONSTANT);
    const expected = grayZipfian(last, ZIPFIAN_CONSTANT, zn, last).map((p) => p * samples);
    expect(chiSquare(ages, expected)).toBeLessThan(chiSquareBound(last - 1));
    expect(ages[0]).toBe(Math.max(...ages));
  });

  it("follows new inserts once they are acknowledged", () => {
    const counter = new AcknowledgedCounter(100);
    const chooser = new SkewedLatestChooser(new Random(2), () => counter.lastValue());
    const item = counter.take();
    expect(item).toBe(100);
    const before = counts(() => chooser.next(), 102, 2000);
    expect(before[100]).toBe(0);
    counter.acknowledge(item);
    const after = counts(() => chooser.next(), 102, 2000);
    expect(after[100]! / 2000).toBeGreaterThan(0.1);
  });

  it("advances only over contiguous acknowledgements, in any order", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc
          .integer({ min: 1, max: 60 })
          .chain((n) =>
            fc.tuple(fc.constant(n), fc.shuffledSubarray([...Array(n).keys()], { minLength: n })),
          ),
        (start, [n, order]) => {
          const c = new AcknowledgedCounter(start);
          const items = Array.from({ length: n }, () => c.take());
          const acked = new Set<number>();
          for (const i of order) {
            c.acknowledge(items[i]!);
            acked.add(i);
            let contiguous = 0;
            while (acked.has(contiguous)) contiguous++;
            expect(c.lastValue()).toBe(start - 1 + contiguous);
          }
          expect(c.lastValue()).toBe(start + n - 1);
        },
      ),
    );
  });
});
