import { beforeAll, describe, expect, it } from "vitest";
import { chaosOptionsFromEnv } from "../src/options.js";
import { type ChaosResult, runChaos } from "../src/run.js";

// The same cluster, nemesis and set workload as the siblings run, with last-writer-wins.
// CHAOS_LWW_SECONDS sets its length (default 10 s: it only has to show the checker failing).
const env = chaosOptionsFromEnv();
const seconds = Number(process.env.CHAOS_LWW_SECONDS ?? 10);

describe("chaos: the lww policy loses acknowledged adds, and the set checker says so", () => {
  let r: ChaosResult;
  beforeAll(
    async () => {
      r = await runChaos({
        ...env,
        seconds,
        calmSeconds: Math.min(3, seconds - 1),
        minFaultRounds: 0,
        name: "lww",
        conflictPolicy: "lww",
        register: null,
        tombstone: null,
        log: (line) => console.log(line),
      });
      console.log(r.text);
    },
    (seconds + 300) * 1000,
  );

  it("reports lost adds", () => {
    const sets = r.report.sets!;
    expect(sets.totals.acknowledged).toBeGreaterThan(20);
    expect(sets.keys.every((k) => k.finalRead !== null)).toBe(true);
    expect(sets.totals.lost).toBeGreaterThan(0);
    expect(sets.verdict).toBe("violation");
    expect(r.report.anomalies.lost).toBe(sets.totals.lost);
  });

  it("still converges: lww loses writes by design, not replicas", () => {
    expect(r.convergence.diverged).toEqual([]);
    expect(r.hints.drained).toBe(true);
  });
});
