import { describe, expect, it } from "vitest";
import { Random } from "../src/random.js";
import {
  keyName,
  makeValuePool,
  OPERATION_KINDS,
  type OperationKind,
  parseWorkloadName,
  WORKLOAD_NAMES,
  WORKLOADS,
  WorkloadGenerator,
} from "../src/workload.js";
import { chiSquare, chiSquareBound } from "./chi-square.js";

const SAMPLES = 50_000;

function mixOf(g: WorkloadGenerator, n: number): Record<OperationKind, number> {
  const mix = { read: 0, update: 0, insert: 0, rmw: 0 };
  for (let i = 0; i < n; i++) {
    const op = g.next();
    mix[op.kind]++;
    if (op.kind === "insert") g.acknowledgeInsert(op.item);
  }
  return mix;
}

describe("workload definitions", () => {
  it("have shares that add up to 1, as YCSB defines them", () => {
    for (const name of WORKLOAD_NAMES) {
      const p = WORKLOADS[name].proportions;
      expect(OPERATION_KINDS.reduce((s, k) => s + p[k], 0)).toBeCloseTo(1, 12);
    }
    expect(WORKLOADS.a.proportions).toMatchObject({ read: 0.5, update: 0.5 });
    expect(WORKLOADS.b.proportions).toMatchObject({ read: 0.95, update: 0.05 });
    expect(WORKLOADS.c.proportions).toMatchObject({ read: 1 });
    expect(WORKLOADS.d.proportions).toMatchObject({ read: 0.95, insert: 0.05 });
    expect(WORKLOADS.f.proportions).toMatchObject({ read: 0.5, rmw: 0.5 });
    expect(WORKLOADS.put.proportions).toMatchObject({ update: 1 });
    expect(WORKLOADS.get.proportions).toMatchObject({ read: 1 });
  });

  it("parse case-insensitively and refuse unknown names", () => {
    expect(parseWorkloadName("A")).toBe("a");
    expect(parseWorkloadName(" put ")).toBe("put");
    expect(parseWorkloadName("e")).toBeUndefined();
  });
});

describe("WorkloadGenerator", () => {
  for (const name of WORKLOAD_NAMES) {
    it(`produces workload ${name.toUpperCase()}'s mix (chi-square)`, () => {
      const g = new WorkloadGenerator({
        workload: name,
        distribution: "zipfian",
        keyCount: 1000,
        seed: 17,
      });
      const mix = mixOf(g, SAMPLES);
      const p = WORKLOADS[name].proportions;
      const kinds = OPERATION_KINDS.filter((k) => p[k] > 0);
      for (const k of OPERATION_KINDS) if (p[k] === 0) expect(mix[k]).toBe(0);
      if (kinds.length > 1) {
        expect(
          chiSquare(
            kinds.map((k) => mix[k]),
            kinds.map((k) => p[k] * SAMPLES),
          ),
        ).toBeLessThan(chiSquareBound(kinds.length - 1));
      } else {
        expect(mix[kinds[0]!]).toBe(SAMPLES);
      }
    });
  }

  it("a wrong mix fails the same check (A's counts against B's shares)", () => {
    const g = new WorkloadGenerator({
      workload: "a",
      distribution: "uniform",
      keyCount: 10,
      seed: 1,
    });
    const mix = mixOf(g, SAMPLES);
    expect(chiSquare([mix.read, mix.update], [0.95 * SAMPLES, 0.05 * SAMPLES])).toBeGreaterThan(
      chiSquareBound(1),
    );
  });

  it("repeats the same sequence for the same seed, a different one for another seed", () => {
    const make = (seed: number) =>
      new WorkloadGenerator({ workload: "a", distribution: "zipfian", keyCount: 500, seed });
    const a = make(5);
    const b = make(5);
    const c = make(6);
    const seqA = Array.from({ length: 200 }, () => a.next());
    expect(Array.from({ length: 200 }, () => b.next())).toEqual(seqA);
    expect(Array.from({ length: 200 }, () => c.next())).not.toEqual(seqA);
  });

  it("keeps keys in the loaded range (uniform: evenly, chi-square)", () => {
    const g = new WorkloadGenerator({
      workload: "c",
      distribution: "uniform",
      keyCount: 100,
      seed: 8,
    });
    const counts = new Array<number>(100).fill(0);
    for (let i = 0; i < SAMPLES; i++) counts[g.next().item]!++;
    expect(chiSquare(counts, new Array(100).fill(SAMPLES / 100))).toBeLessThan(chiSquareBound(99));
  });

  it("skews zipfian keys: the hottest key gets about 1/zeta(10^10) = 3.8% or more", () => {
    const g = new WorkloadGenerator({
      workload: "c",
      distribution: "zipfian",
      keyCount: 1000,
      seed: 8,
    });
    const counts = new Array<number>(1000).fill(0);
    for (let i = 0; i < SAMPLES; i++) counts[g.next().item]!++;
    const top = Math.max(...counts) / SAMPLES;
    expect(top).toBeGreaterThan(0.035);
    expect(top).toBeLessThan(0.06);
  });

  it("workload D inserts new keys in order after the loaded ones and reads recent ones", () => {
    const g = new WorkloadGenerator({
      workload: "d",
      distribution: "uniform",
      keyCount: 1000,
      seed: 3,
    });
    let nextInsert = 1000;
    let recent = 0;
    let reads = 0;
    let last = 999;
    for (let i = 0; i < 20_000; i++) {
      const op = g.next();
      if (op.kind === "insert") {
        expect(op.item).toBe(nextInsert++);
        g.acknowledgeInsert(op.item);
        last = op.item;
      } else {
        reads++;
        expect(op.item).toBeLessThanOrEqual(last);
        expect(op.item).toBeGreaterThanOrEqual(1);
        if (last - op.item < 10) recent++;
      }
    }
    // Under a zipfian over recency, the 10 newest keys take roughly 40% of the reads.
    expect(recent / reads).toBeGreaterThan(0.3);
  });

  it("gives workload D the same kind sequence whether or not inserts are acknowledged", () => {
    const acking = new WorkloadGenerator({
      workload: "d",
      distribution: "zipfian",
      keyCount: 100,
      seed: 4,
    });
    const silent = new WorkloadGenerator({
      workload: "d",
      distribution: "zipfian",
      keyCount: 100,
      seed: 4,
    });
    for (let i = 0; i < 5000; i++) {
      const a = acking.next();
      if (a.kind === "insert") acking.acknowledgeInsert(a.item);
      expect(silent.next().kind).toBe(a.kind);
    }
  });
});

describe("keys and values", () => {
  it("names keys like YCSB", () => {
    expect(keyName(42)).toBe("user42");
  });

  it("makes a deterministic pool of distinct values of the configured size", () => {
    const a = makeValuePool(16, 100, 1);
    const b = makeValuePool(16, 100, 1);
    expect(a.every((v) => v.length === 100)).toBe(true);
    expect(a.map((v) => v.toString("hex"))).toEqual(b.map((v) => v.toString("hex")));
    expect(new Set(a.map((v) => v.toString("hex"))).size).toBe(16);
    expect(new Random(1).fill(new Uint8Array(7)).length).toBe(7);
  });
});
