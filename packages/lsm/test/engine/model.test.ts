/**
 * Model-based property test: random sequences of puts, deletes, batches, point reads, range
 * iterations (bounds, prefix, reverse, limit), snapshots, iterators held across writes, flushes,
 * range compactions and close/reopen, checked step by step against a plain sorted map. Tiny
 * option sets make flushes, compactions, manifest swaps and table-cache evictions happen within
 * a few writes. fast-check prints the seed and the shrunk operation list on failure.
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Db,
  type DbIterator,
  MemoryFileSystem,
  open,
  type Snapshot,
} from "../../src/index.js";
import {
  dbRange,
  hex,
  keyArb,
  Model,
  type RangeSpec,
  rangeArb,
  TINY,
  valueArb,
} from "./helpers.js";

type Op =
  | { t: "put"; k: Uint8Array; v: Uint8Array; wait: boolean }
  | { t: "del"; k: Uint8Array; wait: boolean }
  | { t: "batch"; ops: { k: Uint8Array; v: Uint8Array | null }[] }
  | { t: "get"; k: Uint8Array }
  | { t: "iter"; r: RangeSpec }
  | { t: "seek"; r: RangeSpec; target: Uint8Array; n: number }
  | { t: "snap" }
  | { t: "snapGet"; i: number; k: Uint8Array }
  | { t: "snapIter"; i: number; r: RangeSpec }
  | { t: "release"; i: number }
  | { t: "hold" }
  | { t: "drain"; i: number }
  | { t: "flush" }
  | { t: "compact"; lo: Uint8Array | undefined; hi: Uint8Array | undefined }
  | { t: "reopen" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({
      t: fc.constant("put" as const),
      k: keyArb,
      v: valueArb,
      wait: fc.boolean(),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ t: fc.constant("del" as const), k: keyArb, wait: fc.boolean() }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant("batch" as const),
      ops: fc.array(fc.record({ k: keyArb, v: fc.option(valueArb, { nil: null }) }), {
        minLength: 0,
        maxLength: 6,
      }),
    }),
  },
  { weight: 4, arbitrary: fc.record({ t: fc.constant("get" as const), k: keyArb }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("iter" as const), r: rangeArb }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant("seek" as const),
      r: rangeArb,
      target: keyArb,
      n: fc.integer({ min: 1, max: 5 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("snap" as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant("snapGet" as const), i: fc.nat(5), k: keyArb }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant("snapIter" as const), i: fc.nat(5), r: rangeArb }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("release" as const), i: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("hold" as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("drain" as const), i: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("flush" as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant("compact" as const),
      lo: fc.option(keyArb, { nil: undefined }),
      hi: fc.option(keyArb, { nil: undefined }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("reopen" as const) }) },
);

/** Totals over all runs, to check that the runs reach flushes, compactions and manifest swaps. */
const coverage = {
  flushes: 0,
  compactions: 0,
  trivialMoves: 0,
  deepest: 0,
  reopens: 0,
  tableCacheMisses: 0,
};

function note(db: Db): void {
  const s = db.stats();
  coverage.flushes += s.flushes;
  coverage.compactions += s.compactions;
  coverage.trivialMoves += s.trivialMoves;
  coverage.tableCacheMisses += s.tableCache.misses;
  for (const l of s.levels) if (l.files > 0) coverage.deepest = Math.max(coverage.deepest, l.level);
}

async function runOps(ops: Op[]): Promise<void> {
  const fs = new MemoryFileSystem();
  const options = { ...TINY, fs };
  let db: Db = await open("/db", options);
  const model = new Model();
  const pending: Promise<void>[] = [];
  let snaps: { snap: Snapshot; model: Model }[] = [];
  let held: { it: DbIterator; model: Model }[] = [];
  const settle = async (): Promise<void> => {
    await Promise.all(pending.splice(0));
  };
  try {
    for (const op of ops) {
      switch (op.t) {
        case "put": {
          const p = db.put(op.k, op.v);
          model.put(op.k, op.v);
          if (op.wait) await p;
          else pending.push(p);
          break;
        }
        case "del": {
          const p = db.delete(op.k);
          model.del(op.k);
          if (op.wait) await p;
          else pending.push(p);
          break;
        }
        case "batch": {
          const b = db.batch();
          for (const o of op.ops) {
            if (o.v === null) {
              b.delete(o.k);
              model.del(o.k);
            } else {
              b.put(o.k, o.v);
              model.put(o.k, o.v);
            }
          }
          await db.write(b);
          break;
        }
        case "get": {
          await settle();
          const got = await db.get(op.k);
          const want = model.get(op.k);
          expect(got === undefined ? undefined : hex(got), `get ${hex(op.k)}`).toBe(
            want === undefined ? undefined : hex(want),
          );
          break;
        }
        case "iter": {
          await settle();
          expect(await dbRange(db, op.r)).toEqual(model.range(op.r));
          break;
        }
        case "seek": {
          await settle();
          // seek(target): the next entries are those >= target (reverse: <= target) in range.
          const it = db.iterator(op.r);
          it.seek(op.target);
          const got: [string, string][] = [];
          for (let i = 0; i < op.n; i++) {
            const e = it.nextSync();
            if (e === undefined) break;
            got.push([hex(e[0]), hex(e[1])]);
          }
          await it.close();
          const { limit: _limit, ...unlimited } = op.r;
          const all = model.range(unlimited);
          const t = hex(op.target);
          const cmp = (a: string, b: string) =>
            Buffer.compare(Buffer.from(a, "hex"), Buffer.from(b, "hex"));
          const rest = all.filter(([k]) =>
            op.r.reverse === true ? cmp(k, t) <= 0 : cmp(k, t) >= 0,
          );
          const cap = op.r.limit === undefined ? op.n : Math.min(op.n, op.r.limit);
          expect(got).toEqual(rest.slice(0, cap));
          break;
        }
        case "snap":
          await settle();
          snaps.push({ snap: db.snapshot(), model: model.clone() });
          break;
        case "snapGet": {
          const s = snaps[op.i];
          if (s === undefined) break;
          const got = await db.get(op.k, { snapshot: s.snap });
          const want = s.model.get(op.k);
          expect(got === undefined ? undefined : hex(got)).toBe(
            want === undefined ? undefined : hex(want),
          );
          break;
        }
        case "snapIter": {
          const s = snaps[op.i];
          if (s === undefined) break;
          expect(await dbRange(db, { ...op.r, snapshot: s.snap })).toEqual(s.model.range(op.r));
          break;
        }
        case "release": {
          const s = snaps[op.i];
          if (s === undefined) break;
          s.snap.release();
          snaps.splice(op.i, 1);
          break;
        }
        case "hold":
          await settle();
          held.push({ it: db.iterator(), model: model.clone() });
          break;
        case "drain": {
          const h = held[op.i];
          if (h === undefined) break;
          held.splice(op.i, 1);
          const got: [string, string][] = [];
          for (const [k, v] of h.it) got.push([hex(k), hex(v)]);
          expect(got).toEqual(h.model.range({}));
          break;
        }
        case "flush":
          await settle();
          await db.flush();
          break;
        case "compact":
          await settle();
          await db.compactRange(op.lo, op.hi);
          break;
        case "reopen":
          await settle();
          note(db);
          coverage.reopens++;
          await db.close();
          snaps = [];
          held = [];
          db = await open("/db", options);
          break;
      }
    }
    await settle();
    expect(await dbRange(db, {})).toEqual(model.range({}));
    note(db);
    await db.close();
    // Everything written survives a clean close and reopen.
    db = await open("/db", options);
    expect(await dbRange(db, {})).toEqual(model.range({}));
  } finally {
    await settle().catch(() => {});
    await db.close();
  }
}

describe("model-based: the database behaves like a sorted map", () => {
  it("random operation sequences with tiny memtables and files", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { minLength: 1, maxLength: 120, size: "max" }),
        async (ops) => {
          await runOps(ops);
        },
      ),
      { numRuns: Number(process.env.FC_RUNS ?? 120) },
    );
    // The generator must reach the interesting paths, or the property proves little.
    expect(coverage.flushes).toBeGreaterThan(100);
    expect(coverage.compactions).toBeGreaterThan(50);
    expect(coverage.deepest).toBeGreaterThanOrEqual(2);
    expect(coverage.reopens).toBeGreaterThan(20);
    expect(coverage.tableCacheMisses).toBeGreaterThan(0);
    console.log("model coverage", coverage);
  });
});
