/**
 * Metamorphic test: one random operation log, replayed under very different option sets (tiny
 * vs large memtable, eager vs lazy vs no automatic compaction, block cache on vs off, bloom
 * filters on vs off, one-file vs roomy table cache, small vs large blocks), must produce the
 * same transcript of reads: point reads, range scans in both directions, snapshot reads and
 * reads after reopening. Options may change performance, never results.
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type DbOptions, MemoryFileSystem, open, type Snapshot } from "../../src/index.js";
import { dbRange, hex, keyArb, type RangeSpec, rangeArb, TINY, valueArb } from "./helpers.js";

type Op =
  | { t: "put"; k: Uint8Array; v: Uint8Array }
  | { t: "del"; k: Uint8Array }
  | { t: "batch"; ops: { k: Uint8Array; v: Uint8Array | null }[] }
  | { t: "get"; k: Uint8Array }
  | { t: "scan"; r: RangeSpec }
  | { t: "snap" }
  | { t: "snapScan"; r: RangeSpec }
  | { t: "flush" }
  | { t: "compact" }
  | { t: "reopen" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ t: fc.constant("put" as const), k: keyArb, v: valueArb }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant("del" as const), k: keyArb }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant("batch" as const),
      ops: fc.array(fc.record({ k: keyArb, v: fc.option(valueArb, { nil: null }) }), {
        maxLength: 5,
      }),
    }),
  },
  { weight: 4, arbitrary: fc.record({ t: fc.constant("get" as const), k: keyArb }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("scan" as const), r: rangeArb }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("snap" as const) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("snapScan" as const), r: rangeArb }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("flush" as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("compact" as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("reopen" as const) }) },
);

const CONFIGS: Record<string, DbOptions> = {
  tinyEager: { ...TINY, l0CompactionTrigger: 1, l0SlowdownTrigger: 2, l0StopTrigger: 3 },
  tinyLazy: { ...TINY, l0CompactionTrigger: 8, l0SlowdownTrigger: 16, l0StopTrigger: 24 },
  tinyNoAuto: { ...TINY, autoCompaction: false },
  tinyNoCacheNoBloom: { ...TINY, blockCacheBytes: 0, bloomBitsPerKey: 0, maxOpenFiles: 2 },
  largeDefaults: {},
  largeBlocks: { writeBufferBytes: 64 * 1024, blockSizeBytes: 16 * 1024, maxImmutableMemtables: 3 },
};

async function transcript(ops: Op[], options: DbOptions): Promise<string[]> {
  const fs = new MemoryFileSystem();
  const opts = { ...options, fs };
  let db = await open("/db", opts);
  const out: string[] = [];
  let snap: Snapshot | undefined;
  try {
    for (const op of ops) {
      switch (op.t) {
        case "put":
          await db.put(op.k, op.v);
          break;
        case "del":
          await db.delete(op.k);
          break;
        case "batch": {
          const b = db.batch();
          for (const o of op.ops) o.v === null ? b.delete(o.k) : b.put(o.k, o.v);
          await db.write(b);
          break;
        }
        case "get": {
          const v = await db.get(op.k);
          out.push(`get ${hex(op.k)} = ${v === undefined ? "-" : hex(v)}`);
          break;
        }
        case "scan":
          out.push(`scan ${JSON.stringify(await dbRange(db, op.r))}`);
          break;
        case "snap":
          snap?.release();
          snap = db.snapshot();
          break;
        case "snapScan":
          if (snap !== undefined) {
            out.push(`snap ${JSON.stringify(await dbRange(db, { ...op.r, snapshot: snap }))}`);
          }
          break;
        case "flush":
          await db.flush();
          break;
        case "compact":
          await db.compactRange();
          break;
        case "reopen":
          await db.close();
          snap = undefined;
          db = await open("/db", opts);
          out.push(`reopened ${JSON.stringify(await dbRange(db, {}))}`);
          break;
      }
    }
    out.push(`final ${JSON.stringify(await dbRange(db, {}))}`);
  } finally {
    await db.close();
  }
  return out;
}

describe("metamorphic: options change performance, not results", () => {
  it("the same operation log gives the same reads under six option sets", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { minLength: 1, maxLength: 100, size: "max" }),
        async (ops) => {
          const names = Object.keys(CONFIGS);
          const first = await transcript(ops, CONFIGS[names[0]!]!);
          for (const name of names.slice(1)) {
            expect(await transcript(ops, CONFIGS[name]!), name).toEqual(first);
          }
        },
      ),
      { numRuns: Number(process.env.FC_RUNS ?? 25) },
    );
  });
});
