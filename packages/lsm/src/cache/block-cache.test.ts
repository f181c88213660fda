import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BlockCache,
  BLOCK_CACHE_ENTRY_OVERHEAD_BYTES as O,
  type PinnedBlock,
} from "./block-cache.js";

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
      { numRuns: 300 },
    );
  });
});

describe("BlockCache buffer recycling", () => {
  const own = (size: number, fill = 0) => new Uint8Array(new ArrayBuffer(size)).fill(fill);

  it("hands the buffer of an evicted transient block to the next miss", () => {
    const c = new BlockCache(2 * (100 + O));
    const a = own(100, 1);
    c.set(1, 0, a, true);
    expect(c.get(1, 0, false)?.[0]).toBe(1); // a point lookup: no claim on the block
    c.set(1, 100, own(100), true);
    expect(c.takeBuffer(1)).toBeUndefined(); // nothing evicted yet
    c.set(1, 200, own(100), true); // evicts 1/0
    expect(c.takeBuffer(101)).toBeUndefined(); // too small for this request
    expect(c.takeBuffer(100)).toBe(a.buffer);
    expect(c.takeBuffer(100)).toBeUndefined(); // handed out once
  });

  it("never recycles a block someone may keep, nor a view into a shared buffer", () => {
    const c = new BlockCache(100 + O);
    c.set(1, 0, own(100), true);
    c.get(1, 0); // shared: the caller may keep it
    c.set(1, 100, new Uint8Array(new ArrayBuffer(200), 100, 100), true); // evicts 1/0
    c.set(1, 200, own(100), true); // evicts the view
    expect(c.takeBuffer(1)).toBeUndefined();
  });

  it("recycles a pinned block only after its last pin is released", () => {
    const c = new BlockCache(100 + O);
    const a = own(100, 7);
    const p1 = c.setPinned(1, 0, a);
    const p2 = c.pin(1, 0);
    expect(p1?.block).toBe(a);
    expect(p2?.block).toBe(a);
    c.set(2, 0, own(100), true); // evicts 1/0 while pinned
    expect(c.get(1, 0)).toBeUndefined();
    expect(c.takeBuffer(1)).toBeUndefined();
    c.unpin(p1);
    expect(c.takeBuffer(1)).toBeUndefined();
    expect(a[0]).toBe(7); // untouched while pinned
    c.unpin(p2);
    c.unpin(p2); // extra releases and foreign handles are ignored
    c.unpin({ block: a });
    expect(c.takeBuffer(1)).toBe(a.buffer);
    expect(c.takeBuffer(1)).toBeUndefined();
  });

  it("does not cache (or pin) a block larger than the cache", () => {
    const c = new BlockCache(50);
    expect(c.setPinned(1, 0, own(100))).toBeUndefined();
    expect(c.stats().entries).toBe(0);
  });

  it("never hands out a buffer that a cached, pinned or shared block still uses", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            // Pins are released about as often as taken, so that buffers do get recycled.
            op: fc.constantFrom(
              ...(["set", "set", "set", "setPinned", "get", "get", "getShared"] as const),
              ...(["pin", "unpin", "unpin", "unpin", "take", "take", "take"] as const),
            ),
            key: fc.integer({ min: 0, max: 5 }),
            size: fc.constantFrom(8, 16, 24),
          }),
          { minLength: 50, maxLength: 300 },
        ),
        // Room for a few blocks at most, so that evictions are frequent.
        fc.integer({ min: 0, max: 4 * (24 + O) }),
        (ops, cap) => {
          const c = new BlockCache(cap);
          // Buffers that must not be reused: whose blocks someone may still read.
          const shared = new Set<ArrayBufferLike>();
          // The pin and the block it was taken on (a released pin's object may be reused).
          const pins: [PinnedBlock, Uint8Array][] = [];
          const live = () => {
            const s = new Set(shared);
            for (const [, block] of pins) s.add(block.buffer);
            for (let k = 0; k <= 5; k++) {
              const b = c.get(k, 0, false);
              if (b !== undefined) s.add(b.buffer);
            }
            return s;
          };
          for (const o of ops) {
            if (o.op === "set") c.set(o.key, 0, own(o.size), true);
            else if (o.op === "setPinned") {
              const p = c.setPinned(o.key, 0, own(o.size));
              if (p !== undefined) pins.push([p, p.block]);
            } else if (o.op === "get") c.get(o.key, 0, false);
            else if (o.op === "getShared") {
              const b = c.get(o.key, 0);
              if (b !== undefined) shared.add(b.buffer);
            } else if (o.op === "pin") {
              const p = c.pin(o.key, 0);
              if (p !== undefined) pins.push([p, p.block]);
            } else if (o.op === "unpin") {
              c.unpin(pins.splice(o.key % Math.max(1, pins.length), 1)[0]?.[0]);
            } else {
              const b = c.takeBuffer(o.size);
              if (b !== undefined) {
                expect(live().has(b)).toBe(false);
                expect(b.byteLength).toBeGreaterThanOrEqual(o.size);
                // The caller owns it now and writes into it.
                new Uint8Array(b).fill(0xee);
                shared.add(b);
              }
            }
            expect(c.stats().bytes).toBeLessThanOrEqual(cap);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
