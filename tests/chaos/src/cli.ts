/**
 * One chaos run from the command line, for runs longer than CI's:
 *
 *   pnpm --filter @distkv/chaos-tests chaos -- --seconds 600 [--seed N] [--policy lww]
 *     [--nodes 5] [--faults partition,kill,pause,skew] [--out DIR]
 *
 * Prints progress and the report; exits 0 when the run found none of the anomalies DistKV
 * claims cannot happen (lost, unexpected or failed-present adds, resurrected deletes, diverged
 * replicas, hints left, late or unfinished operations), 1 otherwise, 2 on bad arguments.
 */
import { parseArgs } from "node:util";
import type { FaultKind } from "./nemesis.js";
import { type ChaosOptions, chaosOptionsFromEnv } from "./options.js";
import { chaosAnomalies } from "./report.js";
import { runChaos } from "./run.js";

/** Anomaly kinds that fail a run under the siblings policy (the others are reported). */
const CLAIMED = [
  "lost",
  "unexpected",
  "failed-present",
  "resurrected",
  "diverged",
  "hints-left",
  "final-read-failed",
  "late",
  "unfinished",
] as const;

async function main(): Promise<number> {
  let values: Record<string, string | undefined>;
  try {
    // `pnpm ... chaos -- --seconds 600` may pass the `--` through.
    const args = process.argv.slice(2);
    if (args[0] === "--") args.shift();
    ({ values } = parseArgs({
      args,
      options: {
        seconds: { type: "string" },
        seed: { type: "string" },
        policy: { type: "string" },
        nodes: { type: "string" },
        faults: { type: "string" },
        out: { type: "string" },
      },
      strict: true,
    }));
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  const options: ChaosOptions = { ...chaosOptionsFromEnv(), name: "cli", log: console.log };
  if (values.seconds !== undefined) options.seconds = Number(values.seconds);
  if (values.seed !== undefined) options.seed = Number(values.seed);
  if (values.nodes !== undefined) options.nodes = Number(values.nodes);
  if (values.policy !== undefined) options.conflictPolicy = values.policy as "siblings" | "lww";
  if (values.faults !== undefined) {
    options.faults = values.faults === "" ? [] : (values.faults.split(",") as FaultKind[]);
  }
  if (values.out !== undefined) options.outDir = values.out;
  let result: Awaited<ReturnType<typeof runChaos>>;
  try {
    result = await runChaos(options);
  } catch (e) {
    console.error(`chaos: ${(e as Error).message}`);
    return (e as Error).name === "InvalidChaosOptionsError" ? 2 : 1;
  }
  console.log(result.text);
  const anomalies = chaosAnomalies(result);
  return CLAIMED.some((k) => (anomalies[k] ?? 0) > 0) ? 1 : 0;
}

// Ctrl-C: exit through process.exit so the cluster's exit hook kills the servers and removes
// their temp dir.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`chaos: ${signal}, stopping`);
    process.exit(130);
  });
}
process.exitCode = await main();
