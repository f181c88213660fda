import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  compareInternalKeys,
  internalKeySequence,
  makeInternalKey,
  TYPE_FOR_SEEK,
  ValueType,
} from "../internal-key.js";
import { type LookupResult, LookupState, Memtable, MemtablePool } from "./memtable.js";

// Keys that stress the 16-byte word prefix: shared prefixes, zero bytes (which pad short keys),
// lengths around 16, and longer keys differing only after byte 16.
const keyArb = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 3 }).map((a) => a.map((x) => x % 3)),
  fc
    .tuple(fc.constantFrom(14, 15, 16, 17, 18, 30), fc.uint8Array({ minLength: 1, maxLength: 2 }))
    .map(([n, tail]) => {
      const k = new Uint8Array(n + tail.length);
      k.set(
        tail.map((x) => x % 2),
        n,
      );
      return k;
    }),
);

interface Entry {
  k: Uint8Array;
  seq: number;
  type: number;
  v: Uint8Array;
}

function sorted(entries: Entry[]): Entry[] {
  return [...entries].sort((a, b) =>
    compareInternalKeys(makeInternalKey(a.k, a.seq, a.type), makeInternalKey(b.k, b.seq, b.type)),
  );
}

const opsArb = fc.array(
  fc.record({ k: keyArb, del: fc.boolean(), v: fc.uint8Array({ maxLength: 100 }) }),
  { minLength: 1, maxLength: 200 },
);

function fill(ops: { k: Uint8Array; del: boolean; v: Uint8Array }[]): {
  mem: Memtable;
  entries: Entry[];
} {
  const mem = new Memtable();
  const entries: Entry[] = [];
  ops.forEach((o, i) => {
    const type = o.del ? ValueType.Deletion : ValueType.Value;
    const v = o.del ? new Uint8Array(0) : o.v;
    mem.add(i + 1, type, o.k, v);
    entries.push({ k: o.k, seq: i + 1, type, v });
  });
  return { mem, entries };
}

describe("memtable", () => {
  it("iterates in internal-key order, forward and backward", () => {
    fc.assert(
      fc.property(opsArb, (ops) => {
        const { mem, entries } = fill(ops);
        const want = sorted(entries).map((e) => [...makeInternalKey(e.k, e.seq, e.type)]);
        const it = mem.iterator();
        const fwd: number[][] = [];
        for (it.seekToFirst(); it.valid(); it.next()) fwd.push([...it.key()]);
        expect(fwd).toEqual(want);
        const back: number[][] = [];
        for (it.seekToLast(); it.valid(); it.prev()) back.push([...it.key()]);
        expect(back).toEqual(want.reverse());
        expect(mem.count()).toBe(ops.length);
      }),
    );
  });

  it("seek lands on the first entry >= the target", () => {
    fc.assert(
      fc.property(opsArb, keyArb, fc.nat(250), (ops, k, s) => {
        const { mem, entries } = fill(ops);
        const target = makeInternalKey(k, s, TYPE_FOR_SEEK);
        const want = sorted(entries)
          .map((e) => makeInternalKey(e.k, e.seq, e.type))
          .find((ik) => compareInternalKeys(ik, target) >= 0);
        const it = mem.iterator();
        it.seek(target);
        expect(it.valid() ? [...it.key()] : undefined).toEqual(
          want === undefined ? undefined : [...want],
        );
      }),
    );
  });

  it("get returns the newest visible version at any sequence", () => {
    fc.assert(
      fc.property(opsArb, keyArb, fc.nat(250), (ops, k, s) => {
        const { mem, entries } = fill(ops);
        const out: LookupResult = { state: LookupState.NotFound, value: undefined };
        const decided = mem.get(k, s, out);
        const newest = entries
          .filter((e) => Buffer.compare(e.k, k) === 0 && e.seq <= s)
          .sort((a, b) => b.seq - a.seq)[0];
        expect(decided).toBe(newest !== undefined);
        if (newest !== undefined) {
          if (newest.type === ValueType.Value) {
            expect(out.state).toBe(LookupState.Found);
            expect([...out.value!]).toEqual([...newest.v]);
          } else {
            expect(out.state).toBe(LookupState.Deleted);
          }
        }
      }),
    );
  });

  it("accounts memory and sequence range", () => {
    const mem = new Memtable();
    expect(mem.isEmpty()).toBe(true);
    mem.add(5, ValueType.Value, Uint8Array.of(1), new Uint8Array(1000));
    mem.add(9, ValueType.Value, Uint8Array.of(2), new Uint8Array(1000));
    expect(mem.approximateBytes()).toBeGreaterThan(2000);
    expect([mem.firstSequence, mem.lastSequence]).toEqual([5, 9]);
    const it = mem.iterator();
    it.seekToFirst();
    expect(internalKeySequence(it.key())).toBe(5);
  });

  it("holds entries larger than an arena chunk", () => {
    const mem = new Memtable();
    const big = new Uint8Array(3 << 20).fill(7);
    mem.add(1, ValueType.Value, Uint8Array.of(1), big);
    const out: LookupResult = { state: LookupState.NotFound, value: undefined };
    expect(mem.get(Uint8Array.of(1), 1, out)).toBe(true);
    expect(out.value!.length).toBe(big.length);
  });

  it("passes its arena to the next memtable only when the last reference is dropped", () => {
    const pool = new MemtablePool(8);
    const value = new Uint8Array(1000);
    const fill = (m: Memtable, tag: number, n: number) => {
      for (let i = 0; i < n; i++) {
        m.add(i + 1, ValueType.Value, Uint8Array.of(i >> 8, i & 0xff), value.fill(tag));
      }
    };
    const a = new Memtable(pool);
    fill(a, 1, 3000); // ~3 MB: several arena chunks
    a.ref(); // an iterator's reference
    const it = a.iterator();
    a.unref(); // the database's: the iterator keeps the arena alive
    expect(pool.idleChunks).toBe(0);
    const b = new Memtable(pool);
    fill(b, 2, 3000); // fresh chunks: a's are still in use
    it.seekToFirst();
    let n = 0;
    for (; it.valid(); it.next()) {
      expect(it.value()[0]).toBe(1);
      n++;
    }
    expect(n).toBe(3000);
    a.unref(); // the iterator closed
    expect(pool.idleChunks).toBeGreaterThanOrEqual(3);
    // A memtable built on the recycled arena reads back exactly what it was given.
    const c = new Memtable(pool);
    fill(c, 3, 3000);
    const out: LookupResult = { state: LookupState.NotFound, value: undefined };
    for (let i = 0; i < 3000; i += 7) {
      expect(c.get(Uint8Array.of(i >> 8, i & 0xff), 3000, out)).toBe(true);
      expect(out.value!.every((x) => x === 3)).toBe(true);
    }
    expect(c.count()).toBe(3000);
    // Using a memtable after its last reference is an error, not a read of reused memory.
    expect(() => a.get(Uint8Array.of(0, 1), 10, out)).toThrow(/last reference/);
    expect(() => a.iterator()).toThrow(/last reference/);
    expect(() => a.unref()).toThrow(/last reference/);
  });
});
