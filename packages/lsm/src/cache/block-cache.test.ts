import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BlockCache, BLOCK_CACHE_ENTRY_OVERHEAD_BYTES as O } from "./block-cache.js";

describe("BlockCache", () => {
  it("replaces the only cached block of a file and still finds it", () => {
    // Found by the model test (seed -1598903243): replacing a file's last block dropped the
    // file's map, and the new block went into the dropped one.
    const c = new BlockCache(1 << 20);
    c.set(4, 3, new Uint8Array(1));
    c.set(4, 3, new Uint8Array(2));
    expect(c.get(4, 3)?.length).toBe(2);
    expect(c.stats().entries).toBe(1);
  });

  it("evicts least recently used blocks to stay within capacity bytes", () => {
    const c = new BlockCache(3 * (100 + O));
    const b = (n: number) => new Uint8Array(100).fill(n);
    c.set(1, 0, b(1));
    c.set(1, 100, b(2));
    c.set(2, 0, b(3));
    expect(c.get(1, 0)?.[0]).toBe(1); // 1/0 is now most recent
    c.set(2, 100, b(4)); // evicts 1/100
    expect(c.get(1, 100)).toBeUndefined();
    expect(c.get(1, 0)?.[0]).toBe(1);
    expect(c.get(2, 0)?.[0]).toBe(3);
    expect(c.get(2, 100)?.[0]).toBe(4);
    const s = c.stats();
    expect(s.entries).toBe(3);
    expect(s.bytes).toBe(3 * (100 + O));
    expect(s.hits).toBe(4);
    expect(s.misses).toBe(1);
    expect(s.evictions).toBe(1);
    c.evictFile(2);
    expect(c.get(2, 0)).toBeUndefined();
    expect(c.stats().entries).toBe(1);
    // A block larger than the whole cache is not cached.
    c.set(3, 0, new Uint8Array(10_000));
    expect(c.get(3, 0)).toBeUndefined();
  });

  it("matches an LRU model under random operations", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            op: fc.constantFrom("get", "set", "set", "evictFile"),
            file: fc.integer({ min: 1, max: 4 }),
            off: fc.integer({ min: 0, max: 6 }),
            size: fc.integer({ min: 0, max: 300 }),
          }),
          { maxLength: 200 },
        ),
        fc.integer({ min: 0, max: 2000 }),
        (ops, cap) => {
          const c = new BlockCache(cap);
          // Model: array of [key, charge], most recent last.
          let model: [string, number, number][] = [];
          for (const o of ops) {
            const k = `${o.file}:${o.off}`;
            if (o.op === "get") {
              const i = model.findIndex((m) => m[0] === k);
              const got = c.get(o.file, o.off);
              if (i < 0) expect(got).toBeUndefined();
              else {
                expect(got?.length).toBe(model[i]![2]);
                model.push(model.splice(i, 1)[0]!);
              }
            } else if (o.op === "set") {
              c.set(o.file, o.off, new Uint8Array(o.size));
              const charge = o.size + O;
              if (charge > cap) continue;
              model = model.filter((m) => m[0] !== k);
              model.push([k, charge, o.size]);
              let total = model.reduce((a, m) => a + m[1], 0);
              while (total > cap) total -= model.shift()![1];
            } else {
              c.evictFile(o.file);
              model = model.filter((m) => !m[0].startsWith(`${o.file}:`));
            }
            expect(c.stats().bytes).toBe(model.reduce((a, m) => a + m[1], 0));
            expect(c.stats().bytes).toBeLessThanOrEqual(cap);
          }
        },
      ),
    );
  });
});
