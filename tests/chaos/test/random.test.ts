import { describe, expect, it } from "vitest";
import { Random } from "../src/random.js";

describe("Random", () => {
  it("repeats its sequence for a seed and differs between seeds", () => {
    const a = new Random(42);
    const b = new Random(42);
    const c = new Random(43);
    const sa = Array.from({ length: 50 }, () => a.nextUint32());
    const sb = Array.from({ length: 50 }, () => b.nextUint32());
    const sc = Array.from({ length: 50 }, () => c.nextUint32());
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
  });

  it("stays in range and covers it", () => {
    const r = new Random(7);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const v = r.int(-3, 3);
      expect(v).toBeGreaterThanOrEqual(-3);
      expect(v).toBeLessThanOrEqual(3);
      seen.add(v);
      const f = r.next();
      expect(f).toBeGreaterThanOrEqual(0);
      expect(f).toBeLessThan(1);
    }
    expect(seen.size).toBe(7);
  });

  it("shuffles into a permutation and forks independent named streams", () => {
    const r = new Random(1);
    const items = ["a", "b", "c", "d", "e", "f"];
    const shuffled = r.shuffle(items);
    expect([...shuffled].sort()).toEqual(items);
    expect(items).toEqual(["a", "b", "c", "d", "e", "f"]);
    const x = new Random(9).fork("client-1");
    const y = new Random(9).fork("client-1");
    const z = new Random(9).fork("client-2");
    expect(x.nextUint32()).toBe(y.nextUint32());
    expect(new Random(9).fork("client-1").nextUint32()).not.toBe(z.nextUint32());
  });

  it("rejects bad seeds and ranges", () => {
    expect(() => new Random(-1)).toThrow(/seed/);
    expect(() => new Random(1.5)).toThrow(/seed/);
    expect(() => new Random(1).int(3, 2)).toThrow(/lo <= hi/);
    expect(() => new Random(1).pick([])).toThrow(/empty/);
  });
});
