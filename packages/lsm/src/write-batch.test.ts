import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isCorruptionError } from "./errors.js";
import { ValueType } from "./internal-key.js";
import {
  batchCount,
  forEachBatchRecord,
  insertBatch,
  mergeBatches,
  setBatchSequence,
  WriteBatch,
} from "./write-batch.js";

type Op = { k: Uint8Array; v: Uint8Array | null };
const opArb = fc.record({
  k: fc.uint8Array({ minLength: 1, maxLength: 300 }),
  v: fc.option(fc.uint8Array({ maxLength: 300 }), { nil: null }),
});

function build(ops: Op[]): WriteBatch {
  const b = new WriteBatch();
  for (const o of ops) o.v === null ? b.delete(o.k) : b.put(o.k, o.v);
  return b;
}

function decode(rep: Uint8Array): { seq: number; type: number; k: number[]; v: number[] }[] {
  const out: { seq: number; type: number; k: number[]; v: number[] }[] = [];
  forEachBatchRecord(rep, (seq, type, k, v) => out.push({ seq, type, k: [...k], v: [...v] }));
  return out;
}

describe("write batch encoding", () => {
  it("round-trips operations with consecutive sequence numbers", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 20 }), fc.nat(1e12), (ops, seq) => {
        const rep = build(ops).encode();
        setBatchSequence(rep, seq);
        expect(batchCount(rep)).toBe(ops.length);
        expect(decode(rep)).toEqual(
          ops.map((o, i) => ({
            seq: seq + i,
            type: o.v === null ? ValueType.Deletion : ValueType.Value,
            k: [...o.k],
            v: o.v === null ? [] : [...o.v],
          })),
        );
      }),
    );
  });

  it("insertBatch (the write hot path) sees exactly what forEachBatchRecord decodes", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 20 }), (ops) => {
        const rep = build(ops).encode();
        setBatchSequence(rep, 7);
        const seen: unknown[] = [];
        insertBatch(rep, {
          addRange: (seq, type, key, ks, ke, value, vs, ve) =>
            seen.push({ seq, type, k: [...key.subarray(ks, ke)], v: [...value.subarray(vs, ve)] }),
        });
        expect(seen).toEqual(decode(rep));
      }),
    );
  });

  it("merges batches for group commit", () => {
    const a = build([{ k: Uint8Array.of(1), v: Uint8Array.of(2) }]).encode();
    const b = build([
      { k: Uint8Array.of(3), v: null },
      { k: Uint8Array.of(4), v: Uint8Array.of(5) },
    ]).encode();
    const m = mergeBatches([a, b]);
    setBatchSequence(m, 10);
    expect(decode(m).map((r) => [r.seq, r.k[0]])).toEqual([
      [10, 1],
      [11, 3],
      [12, 4],
    ]);
  });

  it("reports truncated or inconsistent records as CorruptionError with the file name", () => {
    const rep = build([{ k: Uint8Array.of(1, 2, 3), v: Uint8Array.of(4, 5, 6) }]).encode();
    for (const bad of [rep.subarray(0, rep.length - 1), rep.subarray(0, 5)]) {
      let err: unknown;
      try {
        forEachBatchRecord(bad, () => {}, "000007.log", 100);
      } catch (e) {
        err = e;
      }
      expect(isCorruptionError(err)).toBe(true);
      expect((err as Error).message).toContain("000007.log");
    }
    const wrongCount = rep.slice();
    wrongCount[8] = 2;
    expect(() => forEachBatchRecord(wrongCount, () => {})).toThrow(/2 records/);
  });

  it("clear() empties a batch for reuse", () => {
    const b = new WriteBatch().put(Uint8Array.of(1), Uint8Array.of(2));
    b.clear();
    expect(b.length).toBe(0);
    expect(b.byteLength).toBe(12);
  });
});
