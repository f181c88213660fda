import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BlockCache } from "../cache/block-cache.js";
import { type CorruptionError, isCorruptionError } from "../errors.js";
import { MemoryFileSystem } from "../fs/memory-fs.js";
import { compareBytes, compareBytesRange } from "../util/compare-bytes.js";
import { FOOTER_SIZE } from "./format.js";
import { TableBuilder } from "./table-builder.js";
import { TableReader } from "./table-reader.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
// Keys carry an 8-byte trailer that the filter ignores, as the engine's internal keys do.
const filterKey = (k: Uint8Array) => k.subarray(0, Math.max(0, k.length - 8));

function key(i: number): Uint8Array {
  const k = new Uint8Array(16);
  new DataView(k.buffer).setUint32(4, i, false);
  return k;
}

async function buildTable(
  fs: MemoryFileSystem,
  path: string,
  entries: [Uint8Array, Uint8Array][],
  opts: { blockSizeBytes?: number; restartInterval?: number; bloomBitsPerKey?: number } = {},
) {
  const b = new TableBuilder(await fs.createWritable(path), {
    compare: compareBytes,
    filterKey,
    ...opts,
  });
  for (const [k, v] of entries) b.add(k, v);
  return b.finish();
}

async function open(
  fs: MemoryFileSystem,
  path: string,
  cache?: BlockCache,
  sync = false,
  prefixSearch = false,
) {
  const o = {
    compare: compareBytes,
    filterKey,
    fileNumber: 1,
    ...(cache ? { cache } : {}),
    // Bytewise order: every byte of a key is ordered bytewise.
    ...(prefixSearch
      ? {
          orderedPrefixLength: (k: Uint8Array) => k.length,
          compareRange: (a: Uint8Array, s: number, e: number, b: Uint8Array) =>
            compareBytesRange(a, s, e, b, 0, b.length),
        }
      : {}),
  };
  return sync
    ? TableReader.openSync(fs.openReadableSync(path), o)
    : TableReader.open(await fs.openReadable(path), o);
}

const entriesArb = fc
  .uniqueArray(
    fc.uint8Array({ minLength: 1, maxLength: 20 }).map((a) => a.map((x) => x % 8)),
    {
      selector: hex,
      minLength: 1,
      maxLength: 400,
    },
  )
  .chain((keys) =>
    fc
      .array(fc.uint8Array({ maxLength: 100 }), { minLength: keys.length, maxLength: keys.length })
      .map((vals) =>
        keys.sort(compareBytes).map((k, i) => [k, vals[i]!] as [Uint8Array, Uint8Array]),
      ),
  );

function lowerBound(keys: Uint8Array[], t: Uint8Array): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    if (compareBytes(keys[m]!, t) < 0) lo = m + 1;
    else hi = m;
  }
  return lo;
}

describe("table builder/reader", () => {
  it("matches a sorted-array model: scans both ways, seek/next/prev walks, get, filter", async () => {
    await fc.assert(
      fc.asyncProperty(
        entriesArb,
        fc.integer({ min: 64, max: 600 }),
        fc.integer({ min: 1, max: 16 }),
        fc.boolean(),
        fc.array(
          fc.oneof(
            fc.constantFrom("next", "prev", "first", "last"),
            fc.uint8Array({ maxLength: 20 }).map((a) => a.map((x) => x % 8)),
          ),
          { maxLength: 40 },
        ),
        fc.boolean(),
        async (entries, blockSizeBytes, restartInterval, useCache, ops, prefixSearch) => {
          const fs = new MemoryFileSystem();
          const res = await buildTable(fs, "/t.sst", entries, { blockSizeBytes, restartInterval });
          expect(res.entries).toBe(entries.length);
          expect(hex(res.smallest)).toBe(hex(entries[0]![0]));
          expect(hex(res.largest)).toBe(hex(entries[entries.length - 1]![0]));
          const t = await open(
            fs,
            "/t.sst",
            useCache ? new BlockCache(1 << 20) : undefined,
            useCache,
            prefixSearch,
          );
          expect(t.fileSize).toBe(res.fileSize);
          const keys = entries.map((e) => e[0]);
          const want = entries.map(([k, v]) => `${hex(k)}=${hex(v)}`);
          const it = t.iterator({ fillCache: ops.length % 2 === 0 });
          const fwd: string[] = [];
          for (it.seekToFirst(); it.valid(); it.next())
            fwd.push(`${hex(it.key())}=${hex(it.value())}`);
          expect(fwd).toEqual(want);
          const bwd: string[] = [];
          for (it.seekToLast(); it.valid(); it.prev())
            bwd.push(`${hex(it.key())}=${hex(it.value())}`);
          expect(bwd).toEqual([...want].reverse());
          let pos = -1;
          for (const o of ops) {
            if (o === "next" || o === "prev") {
              if (pos < 0 || pos >= keys.length) continue;
              if (o === "next") it.next();
              else it.prev();
              pos += o === "next" ? 1 : -1;
            } else if (o === "first") {
              it.seekToFirst();
              pos = 0;
            } else if (o === "last") {
              it.seekToLast();
              pos = keys.length - 1;
            } else {
              it.seek(o);
              pos = lowerBound(keys, o);
              const g = t.get(o);
              if (pos < keys.length) expect(g && hex(g.key)).toBe(hex(keys[pos]!));
              else expect(g).toBeUndefined();
            }
            expect(it.valid()).toBe(pos >= 0 && pos < keys.length);
            if (it.valid()) expect(`${hex(it.key())}=${hex(it.value())}`).toBe(want[pos]);
          }
          for (const [k, v] of entries) {
            expect(t.mayContain(filterKey(k))).toBe(true);
            const g = t.get(k);
            expect(g && `${hex(g.key)}=${hex(g.value)}`).toBe(`${hex(k)}=${hex(v)}`);
          }
          // approximateOffsetOf is monotone in the key.
          let last = -1;
          for (const k of keys) {
            const off = t.approximateOffsetOf(k);
            expect(off).toBeGreaterThanOrEqual(last);
            last = off;
          }
          await t.close();
        },
      ),
      { numRuns: 120 },
    );
  });

  it("point lookups and iterators stay exact while a small cache recycles block buffers", async () => {
    const fs = new MemoryFileSystem();
    const entries: [Uint8Array, Uint8Array][] = Array.from({ length: 3000 }, (_, i) => [
      key(i),
      new Uint8Array(40).fill(i % 251),
    ]);
    await buildTable(fs, "/r.sst", entries, { blockSizeBytes: 512 });
    // Room for a handful of blocks: nearly every read evicts one and reuses its buffer.
    const cache = new BlockCache(6 * 1024);
    const t = await open(fs, "/r.sst", cache, false, true);
    const want = (i: number) => hex(entries[i]![1]);
    const it = t.iterator();
    it.seek(key(1000));
    let held = it.value();
    let x = 12345;
    for (let round = 0; round < 4000; round++) {
      x = (x * 1103515245 + 12345) >>> 0;
      const i = x % entries.length;
      const g = t.get(key(i));
      expect(g && hex(g.value)).toBe(want(i));
      // The iterator pins its block: its value survives all the recycling around it.
      expect(hex(held)).toBe(want(1000));
      if (round % 100 === 99) {
        // Moving may leave the block (releasing it); back on the entry, take its value again.
        it.next();
        expect(hex(it.key())).toBe(hex(key(1001)));
        expect(hex(it.value())).toBe(want(1001));
        it.prev();
        expect(hex(it.key())).toBe(hex(key(1000)));
        held = it.value();
      }
    }
    expect(cache.stats().evictions).toBeGreaterThan(1000);
    it.close?.();
  });

  it("rejects keys out of order and empty tables", async () => {
    const fs = new MemoryFileSystem();
    const b = new TableBuilder(await fs.createWritable("/x"), { compare: compareBytes, filterKey });
    b.add(key(2), Uint8Array.of(1));
    expect(() => b.add(key(2), Uint8Array.of(1))).toThrow(/strictly increasing/);
    expect(() => b.add(key(1), Uint8Array.of(1))).toThrow(/strictly increasing/);
    const e = new TableBuilder(await fs.createWritable("/y"), { compare: compareBytes, filterKey });
    await expect(e.finish()).rejects.toThrow(/no entries/);
    expect(
      () => new TableBuilder(b.file, { compare: compareBytes, filterKey, blockSizeBytes: 1 }),
    ).toThrow(/blockSizeBytes/);
  });

  it("bloom filter: no false negatives, false-positive rate near 1% at 10 bits/key", async () => {
    const fs = new MemoryFileSystem();
    const n = 20_000;
    const entries: [Uint8Array, Uint8Array][] = [];
    for (let i = 0; i < n; i++) {
      const k = new Uint8Array(24);
      new DataView(k.buffer).setUint32(0, i, false);
      new DataView(k.buffer).setUint32(4, 0x9e3779b9, false);
      entries.push([k, new Uint8Array(0)]);
    }
    await buildTable(fs, "/b.sst", entries, { bloomBitsPerKey: 10 });
    const t = await open(fs, "/b.sst");
    for (const [k] of entries) expect(t.mayContain(filterKey(k))).toBe(true);
    let fp = 0;
    const probes = 100_000;
    for (let i = 0; i < probes; i++) {
      const k = new Uint8Array(16);
      new DataView(k.buffer).setUint32(0, n + i, false);
      new DataView(k.buffer).setUint32(4, 0x9e3779b9, false);
      if (t.mayContain(k)) fp++;
    }
    const rate = fp / probes;
    console.log(
      `bloom 10 bits/key: false-positive rate ${(rate * 100).toFixed(3)}% over ${probes} absent keys`,
    );
    expect(rate).toBeLessThan(0.02);
    expect(rate).toBeGreaterThan(0.002);
  });

  it("a table without a filter says mayContain for everything", async () => {
    const fs = new MemoryFileSystem();
    await buildTable(fs, "/n.sst", [[key(1), Uint8Array.of(1)]], { bloomBitsPerKey: 0 });
    const t = await open(fs, "/n.sst");
    expect(t.mayContain(Uint8Array.of(9, 9))).toBe(true);
  });

  describe("corruption", () => {
    const entries: [Uint8Array, Uint8Array][] = Array.from({ length: 300 }, (_, i) => [
      new TextEncoder().encode(`k${String(i).padStart(5, "0")}-trailer!`),
      new TextEncoder().encode(`value-${i}`.repeat(1 + (i % 3))),
    ]);

    async function image(): Promise<Uint8Array> {
      const fs = new MemoryFileSystem();
      await buildTable(fs, "/c.sst", entries, { blockSizeBytes: 512 });
      return fs.readFile("/c.sst");
    }

    async function readAll(
      bytes: Uint8Array,
      path: string,
      verifyChecksums = true,
    ): Promise<string[]> {
      const fs = new MemoryFileSystem();
      await fs.mkdir("/db");
      const h = await fs.createWritable(path);
      h.appendSync(bytes);
      const t = await TableReader.open(await fs.openReadable(path), {
        compare: compareBytes,
        filterKey,
        fileNumber: 7,
        cache: new BlockCache(1 << 20),
        verifyChecksums,
      });
      // The readahead path (compaction scans, not filling the cache) checks every block too;
      // it runs first so that no block comes from the cache.
      const ra = t.iterator({ fillCache: false });
      let n = 0;
      for (ra.seekToFirst(); ra.valid(); ra.next()) n++;
      const out: string[] = [];
      const it = t.iterator();
      for (it.seekToFirst(); it.valid(); it.next()) out.push(`${hex(it.key())}=${hex(it.value())}`);
      expect(n).toBe(out.length);
      for (const [k] of entries) t.get(k);
      return out;
    }

    it("every single flipped byte is reported as CorruptionError naming the file and an offset at or before it", async () => {
      const img = await image();
      const want = entries.map(([k, v]) => `${hex(k)}=${hex(v)}`);
      expect(await readAll(img, "/db/000007.sst")).toEqual(want);
      for (let pos = 0; pos < img.length; pos++) {
        const bad = img.slice();
        bad[pos]! ^= 1 << (pos % 8);
        let err: unknown;
        try {
          await readAll(bad, "/db/000007.sst");
        } catch (e) {
          err = e;
        }
        if (!isCorruptionError(err))
          expect.fail(`flip at ${pos} of ${img.length} not detected: ${String(err)}`);
        const c = err as CorruptionError;
        expect(c.file).toBe("/db/000007.sst");
        expect(c.offset).toBeLessThanOrEqual(pos);
        expect(c.message).toContain("/db/000007.sst");
      }
    });

    it("a truncated file is reported as CorruptionError at open, at every length", async () => {
      const img = await image();
      for (let len = 0; len < img.length; len += len < FOOTER_SIZE * 2 ? 1 : 37) {
        await expect(readAll(img.subarray(0, len), "/db/000007.sst")).rejects.toSatisfy(
          (e: unknown) => isCorruptionError(e) && (e as CorruptionError).file === "/db/000007.sst",
        );
      }
    });

    it("with verifyChecksums off, footer, index and filter are still verified", async () => {
      const img = await image();
      const bad = img.slice();
      bad[img.length - FOOTER_SIZE]! ^= 0xff;
      await expect(readAll(bad, "/db/000007.sst", false)).rejects.toSatisfy(isCorruptionError);
    });
  });
});
