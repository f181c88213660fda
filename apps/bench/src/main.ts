#!/usr/bin/env node
import { CleanupRegistry } from "./cleanup.js";
import { isBenchAbortedError, isBenchOptionsError, messageOf } from "./errors.js";
import { parseFlags } from "./flags.js";
import { type BenchReport, formatTable } from "./report.js";
import { runBenchmark } from "./runner.js";
import { formatVerdicts, PEER_SUITE, runSuite } from "./suite.js";

function printReport(report: BenchReport): void {
  process.stdout.write(`\n${formatTable(report)}\n`);
  if (report.files !== undefined) {
    const f = report.files;
    process.stdout.write(
      `results: ${f.json}${f.svg === undefined ? "" : `\nchart:   ${f.svg}`}${f.png === undefined ? "" : ` (${f.png})`}\n`,
    );
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const cleanup = new CleanupRegistry(log);
  const controller = new AbortController();
  // Last resort: whatever still runs when the process exits is killed and its dirs removed.
  process.on("exit", () => cleanup.runAllSync());
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      log(`\n${signal}: stopping the servers and removing temp dirs (again to force)`);
      controller.abort(new Error(signal));
    } else {
      cleanup.runAllSync();
      process.exit(130);
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // A closed terminal: without a handler Node dies at once and leaves the servers running.
  process.on("SIGHUP", onSignal);
  try {
    const flags = await parseFlags(argv);
    const options = { ...flags.options, cleanup, signal: controller.signal, log };
    let valid = true;
    if (flags.suite === "peers") {
      const outcomes = await runSuite(PEER_SUITE, options, (entry, report, verdicts) => {
        process.stdout.write(`\n== ${entry.title}\n`);
        printReport(report);
        process.stdout.write(`${formatVerdicts(entry, verdicts)}\n`);
      });
      valid = outcomes.every((o) => o.report.valid);
    } else {
      const report = await runBenchmark(options);
      printReport(report);
      valid = report.valid;
    }
    return flags.strict && !valid ? 3 : 0;
  } catch (e) {
    if (isBenchAbortedError(e) || controller.signal.aborted) {
      log("aborted; everything started was stopped and removed");
      return 130;
    }
    if (isBenchOptionsError(e)) {
      log(`distkv-bench: ${e.message}\nRun distkv-bench --help for usage.`);
      return 2;
    }
    log(`distkv-bench: ${e instanceof Error && e.stack !== undefined ? e.stack : messageOf(e)}`);
    return 1;
  } finally {
    await cleanup.runAll();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  () => process.exit(1),
);
