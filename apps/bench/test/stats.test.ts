import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { niceScale, renderChart } from "../src/chart.js";
import type { PhaseResult } from "../src/driver.js";
import { errorKind } from "../src/driver.js";
import {
  createLatencyHistogram,
  MAX_TRACKED_MICROS,
  mergeHistograms,
  recordMillis,
  summarize,
} from "../src/latency.js";
import { type BenchReport, formatTable, ratios } from "../src/report.js";
import {
  aggregateTarget,
  mixTolerance,
  type TargetResult,
  validityReasons,
} from "../src/results.js";
import { WORKLOADS } from "../src/workload.js";

/** HDR with 3 significant digits: a value's bucket is within 0.1% of it. */
const HDR_RELATIVE = 0.001;

describe("latency summaries", () => {
  it("reports percentiles of known values within HDR precision", () => {
    const h = createLatencyHistogram();
    for (let us = 1; us <= 10_000; us++) recordMillis(h, us / 1000);
    const s = summarize(h);
    expect(s.count).toBe(10_000);
    const near = (got: number, want: number) =>
      expect(Math.abs(got - want)).toBeLessThanOrEqual(want * HDR_RELATIVE + 0.001);
    near(s.p50Ms, 5);
    near(s.p90Ms, 9);
    near(s.p99Ms, 9.9);
    near(s.p999Ms, 9.99);
    near(s.maxMs, 10);
    near(s.meanMs, 5.0005);
  });

  it("is all zeros when nothing was recorded", () => {
    expect(summarize(createLatencyHistogram())).toEqual({
      count: 0,
      meanMs: 0,
      p50Ms: 0,
      p90Ms: 0,
      p99Ms: 0,
      p999Ms: 0,
      maxMs: 0,
    });
  });

  it("clamps latencies below 1 us and above 60 s", () => {
    const h = createLatencyHistogram();
    recordMillis(h, 0);
    recordMillis(h, 120_000);
    expect(h.totalCount).toBe(2);
    expect(h.minNonZeroValue).toBe(1);
    expect(Math.abs(h.maxValue - MAX_TRACKED_MICROS) / MAX_TRACKED_MICROS).toBeLessThan(
      HDR_RELATIVE,
    );
  });

  it("merging rounds gives the same summary as recording everything in one histogram", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.double({ min: 0.001, max: 5000, noNaN: true }), { maxLength: 200 }), {
          minLength: 1,
          maxLength: 6,
        }),
        (rounds) => {
          const one = createLatencyHistogram();
          const parts = rounds.map((values) => {
            const h = createLatencyHistogram();
            for (const v of values) {
              recordMillis(h, v);
              recordMillis(one, v);
            }
            return h;
          });
          expect(summarize(mergeHistograms(parts))).toEqual(summarize(one));
        },
      ),
      { numRuns: 50 },
    );
  });

  it("a percentile never exceeds the max, and they are ordered", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.001, max: 60_000, noNaN: true }), { minLength: 1 }),
        (values) => {
          const h = createLatencyHistogram();
          for (const v of values) recordMillis(h, v);
          const s = summarize(h);
          expect(s.p50Ms).toBeLessThanOrEqual(s.p90Ms);
          expect(s.p90Ms).toBeLessThanOrEqual(s.p99Ms);
          expect(s.p99Ms).toBeLessThanOrEqual(s.p999Ms);
          expect(s.p999Ms).toBeLessThanOrEqual(s.maxMs * (1 + HDR_RELATIVE) + 0.001);
          expect(s.maxMs).toBeGreaterThanOrEqual(Math.max(...values) * (1 - HDR_RELATIVE) - 0.001);
        },
      ),
      { numRuns: 50 },
    );
  });
});

function phase(
  ops: number,
  durationMs: number,
  latencyMs: number,
  mix: Partial<PhaseResult["mix"]>,
  errors: Record<string, number> = {},
): PhaseResult {
  const histogram = createLatencyHistogram();
  const byKind = {
    read: createLatencyHistogram(),
    update: createLatencyHistogram(),
    insert: createLatencyHistogram(),
    rmw: createLatencyHistogram(),
  };
  for (let i = 0; i < ops; i++) {
    recordMillis(histogram, latencyMs);
    recordMillis(byKind.read, latencyMs);
  }
  return {
    operations: ops,
    durationMs,
    histogram,
    byKind,
    mix: { read: 0, update: 0, insert: 0, rmw: 0, ...mix },
    errors,
    errorSamples: Object.fromEntries(Object.keys(errors).map((k) => [k, `${k} happened`])),
  };
}

const info = (name: "distkv" | "etcd", label: string = name) => ({
  name,
  label,
  version: { server: "x", client: "y", details: {} },
  settings: {},
});
const load = { operations: 10, durationMs: 5, errors: {}, errorSamples: {} };

describe("aggregating rounds", () => {
  it("throughput is total operations over total measured time, and counts add up", () => {
    const r = aggregateTarget(info("distkv"), load, [
      { round: 0, position: 0, result: phase(1000, 500, 1, { read: 1000 }) },
      {
        round: 1,
        position: 1,
        result: phase(3000, 500, 3, { read: 3000 }, { "UnavailableError:14": 2 }),
      },
    ]);
    expect(r.operations).toBe(4000);
    expect(r.durationMs).toBe(1000);
    expect(r.throughput).toBe(4000);
    expect(r.mix.read).toBe(4000);
    expect(r.errors).toEqual({ "UnavailableError:14": 2 });
    expect(r.errorSamples["UnavailableError:14"]).toBe("UnavailableError:14 happened");
    expect(r.rounds.map((x) => x.throughput)).toEqual([2000, 6000]);
    expect(r.latency.count).toBe(4000);
    // 3/4 of the values are 3 ms.
    expect(r.latency.p50Ms).toBeCloseTo(3, 2);
    expect(r.latency.p90Ms).toBeCloseTo(3, 2);
    expect(r.latencyByKind.read?.count).toBe(4000);
    expect(r.latencyByKind.update).toBeUndefined();
  });

  it("names error kinds by class and code", () => {
    expect(errorKind(Object.assign(new Error("x"), { name: "RemoteError", code: 14 }))).toBe(
      "RemoteError:14",
    );
    expect(errorKind(new TypeError("x"))).toBe("TypeError");
    expect(errorKind("boom")).toBe("string");
  });
});

describe("validity", () => {
  const ok = (name: "distkv" | "etcd", reads: number, updates: number, errors = {}) =>
    aggregateTarget(info(name), load, [
      {
        round: 0,
        position: 0,
        result: phase(reads + updates, 100, 1, { read: reads, update: updates }, errors),
      },
    ]);
  const duration = { kind: "duration", perRoundMs: 100, warmupMs: 0 } as const;
  const operations = { kind: "operations", perRound: [2000], warmupOperations: 0 } as const;

  it("accepts targets with no errors and the configured mix", () => {
    expect(
      validityReasons([ok("distkv", 1000, 1000), ok("etcd", 510, 490)], WORKLOADS.a, duration, []),
    ).toEqual([]);
  });

  it("refuses errors, skipped targets, empty targets and a wrong mix", () => {
    const reasons = validityReasons(
      [ok("distkv", 1000, 1000, { TimeoutError: 3 }), ok("etcd", 1500, 500)],
      WORKLOADS.a,
      duration,
      [{ target: "redis", reason: "redis-server not found" }],
    );
    expect(reasons.join("\n")).toMatch(/redis was skipped/);
    expect(reasons.join("\n")).toMatch(/distkv: 3 errors \(TimeoutError: 3\)/);
    expect(reasons.join("\n")).toMatch(/etcd: read share 75\.00% differs/);
    expect(validityReasons([ok("distkv", 0, 0)], WORKLOADS.a, duration, []).join()).toMatch(
      /no operation completed/,
    );
  });

  it("in operations mode, refuses targets whose mixes are not identical", () => {
    expect(
      validityReasons(
        [ok("distkv", 1000, 1000), ok("etcd", 1001, 999)],
        WORKLOADS.a,
        operations,
        [],
      ),
    ).toEqual([
      "etcd issued 1001 read operations, distkv 1000: the sequences differ",
      "etcd issued 999 update operations, distkv 1000: the sequences differ",
    ]);
  });

  it("load-phase errors make a run invalid", () => {
    const r = ok("distkv", 10, 10);
    r.load.errors = { UnavailableError: 1 };
    expect(validityReasons([r], WORKLOADS.a, duration, []).join()).toMatch(/load phase/);
  });

  it("mix tolerance shrinks with more operations but never below half a point", () => {
    expect(mixTolerance(0.5, 100)).toBeCloseTo(0.25, 6);
    expect(mixTolerance(0.5, 1e9)).toBe(0.005);
    expect(mixTolerance(1, 10)).toBe(0.005);
  });
});

function report(targets: TargetResult[], valid = true): BenchReport {
  return {
    tool: "distkv-bench",
    startedAt: "2025-01-01T00:00:00.000Z",
    finishedAt: "2025-01-01T00:01:00.000Z",
    valid,
    reasons: valid ? [] : ["etcd: 3 errors"],
    config: {
      workload: "c",
      description: WORKLOADS.c.description,
      proportions: { ...WORKLOADS.c.proportions },
      distribution: "zipfian",
      keyCount: 1000,
      valueBytes: 100,
      concurrency: 64,
      rounds: 1,
      mode: "duration",
      perRound: 100,
      warmup: 0,
      seed: 1,
    },
    machine: {
      cpus: 2,
      cpuModel: "test",
      memoryGiB: 1,
      node: "20",
      platform: "linux x64",
      loadAverageStart: [1, 1, 1],
      loadAverageEnd: [1, 1, 1],
    },
    targets,
    skipped: [],
  };
}

describe("report", () => {
  const fast = aggregateTarget(info("distkv", "distkv 3 nodes"), load, [
    { round: 0, position: 0, result: phase(6000, 1000, 2, { read: 6000 }) },
  ]);
  const slow = aggregateTarget(info("etcd", "etcd 3 nodes"), load, [
    { round: 0, position: 1, result: phase(2000, 1000, 8, { read: 2000 }) },
  ]);

  it("computes ratios against the first target", () => {
    const r = ratios(slow, fast);
    expect(r.throughput).toBeCloseTo(1 / 3, 6);
    expect(r.p99).toBeCloseTo(4, 2);
  });

  it("prints a table with every target, the ratios and the verdict", () => {
    const text = formatTable(report([fast, slow], false));
    expect(text).toMatch(/distkv 3 nodes\s+6,000\s+6,000\s+2\.00/);
    expect(text).toMatch(/etcd 3 nodes .* 3\.00x\s+4\.00x$/m);
    expect(text).toMatch(/valid: NO\n {2}- etcd: 3 errors/);
  });

  it("draws bars proportional to the values in the SVG chart", () => {
    const svg = renderChart(report([fast, slow]));
    expect(svg.startsWith("<?xml")).toBe(true);
    expect(svg).toContain("Throughput (ops/s)");
    expect(svg).toContain("etcd 3 nodes");
    expect(svg).toContain("valid: no errors");
    const heights = [
      ...svg.matchAll(/<rect x="[^"]+" y="[^"]+" width="[^"]+" height="([^"]+)" fill="#(?!fff)/g),
    ].map((m) => Number(m[1]));
    // Two throughput bars, then two p99 bars.
    expect(heights).toHaveLength(4);
    expect(heights[0]! / heights[1]!).toBeCloseTo(3, 1);
    expect(heights[3]! / heights[2]!).toBeCloseTo(4, 1);
    expect(svg).not.toMatch(/NaN|undefined/);
  });

  it("picks round axis scales that cover the data", () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-3, max: 1e7, noNaN: true }), (max) => {
        const s = niceScale(max);
        expect(s.max).toBeGreaterThanOrEqual(max);
        expect(s.max / s.step).toBeLessThanOrEqual(6);
        const mantissa = s.step / 10 ** Math.floor(Math.log10(s.step) + 1e-9);
        expect([1, 2, 2.5, 5].some((m) => Math.abs(m - mantissa) < 1e-6)).toBe(true);
      }),
    );
  });
});
