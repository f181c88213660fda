import yargs from "yargs";
import { DEFAULTS, type RawConfig } from "./config.js";

export const USAGE = `distkv-server: a DistKV node

Usage: distkv-server -node-id=node1 [-address=localhost:8080] [-data-dir=./data]
                     [-seed-nodes=host:port,...] [-replicas=3] [-read-quorum=2] [-write-quorum=2]

Long flags work with one dash (as the original DistKV documents them) or two.`;

/**
 * Parses the command line. `short-option-groups: false` is what makes the original's
 * single-dash long flags (`-node-id=node1`) parse as long options instead of -n -o -d -e.
 * --help prints the usage and exits the process (yargs does that itself).
 */
export async function parseFlags(argv: readonly string[]): Promise<RawConfig> {
  const parsed = await yargs([...argv])
    .scriptName("distkv-server")
    .usage(USAGE)
    .parserConfiguration({ "short-option-groups": false })
    .option("node-id", { type: "string", describe: "Unique id of this node (required)" })
    .option("address", {
      type: "string",
      default: DEFAULTS.address,
      describe: "host:port to listen on and advertise",
    })
    .option("data-dir", {
      type: "string",
      default: DEFAULTS.dataDir,
      describe: "Storage directory",
    })
    .option("seed-nodes", {
      type: "string",
      default: "",
      describe: "Comma-separated host:port of nodes to join through",
    })
    .option("replicas", {
      type: "number",
      default: DEFAULTS.replicas,
      describe: "Replicas per key (N)",
    })
    .option("read-quorum", {
      type: "number",
      default: DEFAULTS.readQuorum,
      describe: "Replies a read waits for (R)",
    })
    .option("write-quorum", {
      type: "number",
      default: DEFAULTS.writeQuorum,
      describe: "Acks a write waits for (W)",
    })
    .option("virtual-nodes", {
      type: "number",
      default: DEFAULTS.virtualNodes,
      describe: "Ring tokens per node",
    })
    .option("request-timeout-ms", {
      type: "number",
      default: DEFAULTS.requestTimeoutMs,
      describe: "Default deadline of a client request",
    })
    .option("stream-rate-mb", {
      type: "number",
      default: DEFAULTS.streamRateMbPerSecond,
      describe:
        "MiB per second at most when streaming data to a joining node or away on decommission (0: unlimited)",
    })
    .option("read-all-share", {
      type: "number",
      default: DEFAULTS.readAllShare,
      describe: "Share of reads that ask every replica (read repair of all); the others ask only R",
    })
    .option("anti-entropy-interval-ms", {
      type: "number",
      default: DEFAULTS.antiEntropyIntervalMs,
      describe: "Time between Merkle-tree comparisons with the other replicas (0: only on demand)",
    })
    .option("tombstone-grace-ms", {
      type: "number",
      default: DEFAULTS.tombstoneGraceMs,
      describe: "Purge tombstones older than this on every replica (0: keep them; see the README)",
    })
    .option("hint-max-age-ms", {
      type: "number",
      describe:
        "Drop hints older than this undelivered (anti-entropy repairs instead); must be below the tombstone grace [default: 3 hours, at most half the grace]",
    })
    .option("enable-fault-injection", {
      type: "boolean",
      default: false,
      describe:
        "TESTS ONLY: serve FaultService, which drops or delays this node's calls to chosen peers",
    })
    .option("test-clock-offset-ms", {
      type: "number",
      default: 0,
      describe: "TESTS ONLY: skew the clock this node stamps versions with by this many ms",
    })
    .option("max-key-bytes", { type: "number", default: DEFAULTS.maxKeyBytes })
    .option("max-value-bytes", { type: "number", default: DEFAULTS.maxValueBytes })
    .option("conflict-policy", {
      type: "string",
      default: DEFAULTS.conflictPolicy,
      choices: ["siblings", "lww"],
      describe: "Keep concurrent writes as siblings, or last writer wins",
    })
    .option("sync-writes", {
      type: "boolean",
      default: DEFAULTS.syncWrites,
      describe: "fsync the local WAL before acknowledging a replica write",
    })
    .option("log-level", {
      type: "string",
      default: DEFAULTS.logLevel,
      choices: ["debug", "info", "warn", "error", "silent"],
    })
    .strict()
    .help()
    .alias("help", "h")
    .version(false)
    .wrap(100)
    .fail((msg, err) => {
      throw err ?? new FlagError(msg);
    })
    .parseAsync();
  return {
    nodeId: parsed["node-id"],
    address: parsed.address,
    dataDir: parsed["data-dir"],
    seedNodes: parsed["seed-nodes"],
    replicas: parsed.replicas,
    readQuorum: parsed["read-quorum"],
    writeQuorum: parsed["write-quorum"],
    virtualNodes: parsed["virtual-nodes"],
    requestTimeoutMs: parsed["request-timeout-ms"],
    streamRateMbPerSecond: parsed["stream-rate-mb"],
    enableFaultInjection: parsed["enable-fault-injection"],
    readAllShare: parsed["read-all-share"],
    antiEntropyIntervalMs: parsed["anti-entropy-interval-ms"],
    tombstoneGraceMs: parsed["tombstone-grace-ms"],
    hintMaxAgeMs: parsed["hint-max-age-ms"],
    clockOffsetMs: parsed["test-clock-offset-ms"],
    maxKeyBytes: parsed["max-key-bytes"],
    maxValueBytes: parsed["max-value-bytes"],
    conflictPolicy: parsed["conflict-policy"],
    syncWrites: parsed["sync-writes"],
    logLevel: parsed["log-level"],
  };
}

export class FlagError extends Error {
  override readonly name = "FlagError";
}
