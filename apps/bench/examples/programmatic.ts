// Run with `npx tsx examples/programmatic.ts` from apps/bench. Applications import the same
// names from "@distkv/bench".
import { formatTable, runBenchmark } from "../src/index.js";

const report = await runBenchmark({
  targets: ["distkv", "redis"], // a missing redis-server is skipped (and the run marked invalid)
  workload: "b",
  distkv: { nodes: 1 },
  keyCount: 1000,
  durationMs: 6000, // per target, in 3 interleaved rounds of 2 s
  rounds: 3,
  warmupMs: 1000,
  outDir: null, // no files: just the report object
});
console.log(formatTable(report));
console.log("valid:", report.valid, "distkv ops/s:", report.targets[0]?.throughput);
