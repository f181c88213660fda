import { expect } from "vitest";
import {
  addResult,
  emptySummary,
  formatFailure,
  formatSummary,
  runSimulation,
  type SeedsSummary,
} from "../src/index.js";

/**
 * Runs `count` seeds from `from` with the default cluster (siblings policy, syncing storage,
 * faults on) and fails with every failing seed's anomalies and the command that reproduces it.
 */
export async function runSeedRange(
  from: number,
  count: number,
  operations: number,
): Promise<SeedsSummary> {
  const summary = emptySummary();
  const failures: string[] = [];
  for (let seed = from; seed < from + count; seed++) {
    const result = await runSimulation({ seed, operations });
    addResult(summary, result);
    if (!result.ok) failures.push(formatFailure(result));
  }
  console.log(`seeds ${from}-${from + count - 1}:\n${formatSummary(summary)}`);
  expect(failures, failures.join("\n\n")).toEqual([]);
  return summary;
}

/** Seeds per CI file and operations per seed; SIM_SEEDS / SIM_OPS override them. */
export const CI_SEEDS = Number(process.env.SIM_SEEDS ?? 150);
export const CI_OPS = Number(process.env.SIM_OPS ?? 100);
