/** The distkv-bench command line. */
import yargs from "yargs";
import { BenchOptionsError } from "./errors.js";
import {
  type BenchOptions,
  DEFAULT_CONCURRENCY,
  DEFAULT_KEY_COUNT,
  DEFAULT_ROUNDS,
  DEFAULT_SEED,
  DEFAULT_VALUE_BYTES,
  DEFAULT_WARMUP_MS,
} from "./options.js";
import type { DistKVConsistency } from "./targets/distkv.js";
import { TARGET_NAMES, type TargetName } from "./targets/target.js";
import { type KeyDistribution, parseWorkloadName, WORKLOAD_NAMES } from "./workload.js";

export const USAGE = `distkv-bench: YCSB-style workloads against DistKV, etcd and Redis in one run

Usage: distkv-bench [-targets=distkv,etcd,redis] [-workload=a|b|c|d|f|put|get] [options]
       distkv-bench -suite=peers [-duration-ms=...] [-rounds=...]

Every target is started on loopback with its data in a temp dir, and stopped and removed at the
end (also on Ctrl-C). Rounds alternate between the targets. Results: a table on stdout, JSON and
an SVG chart under bench-results/ at the repository root.`;

export interface ParsedFlags {
  suite: "peers" | undefined;
  strict: boolean;
  options: BenchOptions;
}

function words(s: string | undefined): string[] {
  return s === undefined || s.trim() === "" ? [] : s.trim().split(/\s+/);
}

export async function parseFlags(argv: readonly string[]): Promise<ParsedFlags> {
  const a = await yargs([...argv])
    .scriptName("distkv-bench")
    .usage(USAGE)
    .parserConfiguration({ "short-option-groups": false })
    .option("targets", {
      type: "string",
      default: "distkv",
      describe: `Comma-separated: ${TARGET_NAMES.join(", ")}`,
    })
    .option("workload", {
      type: "string",
      default: "a",
      describe: `One of ${WORKLOAD_NAMES.join(", ")}`,
    })
    .option("distribution", { type: "string", choices: ["zipfian", "uniform"], default: "zipfian" })
    .option("keys", { type: "number", default: DEFAULT_KEY_COUNT, describe: "Keys loaded first" })
    .option("value-bytes", { type: "number", default: DEFAULT_VALUE_BYTES })
    .option("concurrency", {
      type: "number",
      default: DEFAULT_CONCURRENCY,
      describe: "Requests in flight",
    })
    .option("duration-ms", { type: "number", describe: "Measured time per target (default 20000)" })
    .option("operations", {
      type: "number",
      describe: "Measured operations per target (instead of a duration)",
    })
    .option("rounds", { type: "number", default: DEFAULT_ROUNDS, describe: "Interleaved rounds" })
    .option("warmup-ms", { type: "number", default: DEFAULT_WARMUP_MS })
    .option("warmup-operations", {
      type: "number",
      describe: "Warm-up in operations mode (default operations/10)",
    })
    .option("seed", { type: "number", default: DEFAULT_SEED })
    .option("distkv-nodes", { type: "number", default: 3 })
    .option("distkv-replicas", { type: "number", describe: "N (default min(3, nodes))" })
    .option("distkv-read-quorum", { type: "number", describe: "R (default majority of N)" })
    .option("distkv-write-quorum", { type: "number", describe: "W (default majority of N)" })
    .option("distkv-consistency", {
      type: "string",
      choices: ["default", "one", "quorum", "all"],
      default: "default",
    })
    .option("distkv-connections", {
      type: "number",
      describe: "Pipelined connections (default one per node)",
    })
    .option("distkv-server-main", { type: "string", describe: "apps/server/dist/main.js to run" })
    .option("distkv-node-options", {
      type: "string",
      describe: 'Node flags for the servers, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"',
    })
    .option("distkv-server-args", { type: "string", describe: "Extra distkv-server flags" })
    .option("etcd-nodes", { type: "number", default: 3 })
    .option("etcd-connections", { type: "number", default: 1 })
    .option("etcd-bin", { type: "string", default: "etcd" })
    .option("redis-connections", { type: "number", default: 1 })
    .option("redis-auto-pipelining", { type: "boolean", default: true })
    .option("redis-bin", { type: "string", default: "redis-server" })
    .option("out-dir", {
      type: "string",
      describe: "Where JSON and charts go (default <repo>/bench-results)",
    })
    .option("files", {
      type: "boolean",
      default: true,
      describe: "Write JSON and chart (--no-files: stdout only)",
    })
    .option("chart", { type: "boolean", default: true })
    .option("progress", { type: "boolean", default: true, describe: "Progress bar (TTY only)" })
    .option("strict", {
      type: "boolean",
      default: false,
      describe: "Exit 3 when the results are not valid",
    })
    .option("suite", { type: "string", choices: ["peers"], describe: "Run the peer comparisons" })
    .strict()
    .help()
    .alias("help", "h")
    .version(false)
    .wrap(100)
    .fail((msg, err) => {
      throw err ?? new BenchOptionsError(msg);
    })
    .parseAsync();

  const targets = a.targets
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "");
  for (const t of targets) {
    if (!(TARGET_NAMES as readonly string[]).includes(t)) {
      throw new BenchOptionsError(`unknown target "${t}" (known: ${TARGET_NAMES.join(", ")})`);
    }
  }
  const workload = parseWorkloadName(a.workload);
  if (workload === undefined) {
    throw new BenchOptionsError(
      `unknown workload "${a.workload}" (known: ${WORKLOAD_NAMES.join(", ")})`,
    );
  }
  const options: BenchOptions = {
    targets: targets as TargetName[],
    workload,
    distribution: a.distribution as KeyDistribution,
    keyCount: a.keys,
    valueBytes: a["value-bytes"],
    concurrency: a.concurrency,
    rounds: a.rounds,
    warmupMs: a["warmup-ms"],
    seed: a.seed,
    ...(a["duration-ms"] === undefined ? {} : { durationMs: a["duration-ms"] }),
    ...(a.operations === undefined ? {} : { operations: a.operations }),
    ...(a["warmup-operations"] === undefined ? {} : { warmupOperations: a["warmup-operations"] }),
    distkv: {
      nodes: a["distkv-nodes"],
      consistency: a["distkv-consistency"] as DistKVConsistency,
      nodeOptions: words(a["distkv-node-options"]),
      serverArgs: words(a["distkv-server-args"]),
      ...(a["distkv-replicas"] === undefined ? {} : { replicas: a["distkv-replicas"] }),
      ...(a["distkv-read-quorum"] === undefined ? {} : { readQuorum: a["distkv-read-quorum"] }),
      ...(a["distkv-write-quorum"] === undefined ? {} : { writeQuorum: a["distkv-write-quorum"] }),
      ...(a["distkv-connections"] === undefined ? {} : { connections: a["distkv-connections"] }),
      ...(a["distkv-server-main"] === undefined ? {} : { serverMain: a["distkv-server-main"] }),
    },
    etcd: { nodes: a["etcd-nodes"], connections: a["etcd-connections"], binary: a["etcd-bin"] },
    redis: {
      connections: a["redis-connections"],
      autoPipelining: a["redis-auto-pipelining"],
      binary: a["redis-bin"],
    },
    chart: a.chart,
    progress: a.progress,
    ...(a.files ? (a["out-dir"] === undefined ? {} : { outDir: a["out-dir"] }) : { outDir: null }),
  };
  return { suite: a.suite as "peers" | undefined, strict: a.strict, options };
}
