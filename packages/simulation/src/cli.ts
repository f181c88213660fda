/**
 * `pnpm simulate --seeds N [--from S] [--ops M] [--nodes K] [--policy siblings|lww] [--no-sync]
 * [--no-faults] [--verbose]`: runs N seeds from S, prints one line per seed, the details of every
 * failing seed with the command that reproduces it, and the totals. Exits 1 if any seed failed.
 */
import { pathToFileURL } from "node:url";
import { parseArgs } from "./args.js";
import { isInvalidSimulationOptionsError } from "./errors.js";
import { runSimulation } from "./simulation.js";
import {
  addResult,
  emptySummary,
  formatFailure,
  formatResultLine,
  formatSummary,
} from "./summary.js";

/** Runs the CLI with `argv` (without node and the script); returns the exit code. */
export async function main(
  argv: readonly string[],
  out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<number> {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (!isInvalidSimulationOptionsError(e)) throw e;
    out(`error: ${e.message}`);
    out(USAGE);
    return 2;
  }
  if (args.help) {
    out(USAGE);
    return 0;
  }
  const summary = emptySummary();
  for (let i = 0; i < args.seeds; i++) {
    const seed = args.from + i;
    const result = await runSimulation({
      seed,
      operations: args.ops,
      nodes: args.nodes,
      conflictPolicy: args.policy,
      syncWrites: args.sync,
      faults: args.faults,
      ...(args.verbose ? { log: out } : {}),
    });
    addResult(summary, result);
    out(formatResultLine(result));
    if (!result.ok) out(formatFailure(result));
  }
  out("");
  out(formatSummary(summary));
  return summary.failedSeeds.length === 0 ? 0 : 1;
}

export const USAGE = `usage: pnpm simulate --seeds N [--from S] [--ops M] [--nodes K]
         [--policy siblings|lww] [--no-sync] [--no-faults] [--verbose]
  --seeds N      seeds to run (default 10)
  --from S       first seed (default 1)
  --ops M        client operations per seed (default 200)
  --nodes K      nodes in the cluster (default 5)
  --policy P     conflict policy (default siblings; lww is expected to lose adds)
  --no-sync      storage acknowledges writes before syncing them (expected to lose writes)
  --no-faults    no crashes, partitions or link faults
  --verbose      print every fault and operation of each seed`;

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // `pnpm simulate ... | head`: a closed pipe ends the run quietly.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
    process.exit(process.exitCode ?? 0);
  });
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error(e);
      process.exitCode = 3;
    },
  );
}
