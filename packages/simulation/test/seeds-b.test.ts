/**
 * CI's share of the seed search, half two (the other half runs in seeds-a.test.ts, in parallel).
 * Every acknowledged add present, sessions through one coordinator, no late or unfinished
 * operation, converged replicas, no hint left. SIM_SEEDS and SIM_OPS change the amount.
 */
import { expect, test } from "vitest";
import { CI_OPS, CI_SEEDS, runSeedRange } from "./seeds.js";

test(`seeds ${CI_SEEDS + 1} to ${2 * CI_SEEDS}: no anomaly`, async () => {
  const summary = await runSeedRange(CI_SEEDS + 1, CI_SEEDS, CI_OPS);
  expect(summary.operations).toBeGreaterThanOrEqual(CI_SEEDS * CI_OPS);
  expect(summary.faults).toBeGreaterThan(CI_SEEDS);
}, 600_000);
