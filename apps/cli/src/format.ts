/**
 * Human-readable output and the JSON shapes printed with --json. Keys and values are bytes on
 * the wire; the CLI speaks UTF-8 but never mangles bytes it prints as a value.
 */
import type {
  BatchResult,
  CleanupResponse,
  GetResponse,
  NodeMetrics,
  RepairResponse,
  StatusResponse,
  StreamingStatus,
} from "@distkv/rpc";
import { NodeState } from "@distkv/rpc";
import { UsageError } from "./errors.js";

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** The bytes as a string if they are valid UTF-8, else undefined. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    return undefined;
  }
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

// Standard or URL-safe alphabet, padding optional. Buffer.from() would silently skip anything
// else, turning a mistyped context into a different one.
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** Decodes a `--context` argument; a malformed one is a UsageError. Empty means none. */
export function parseContext(text: string | undefined, command: string): Uint8Array {
  if (text === undefined) return new Uint8Array(0);
  const t = text.trim();
  if (!BASE64.test(t) || t.replace(/=+$/, "").length % 4 === 1) {
    throw new UsageError(
      `invalid --context ${JSON.stringify(text)}: expected the base64 context printed by get`,
      command,
    );
  }
  return new Uint8Array(Buffer.from(t, "base64"));
}

/** A key for messages: as typed, quoted if it has spaces or control characters. */
export function displayKey(key: string): string {
  return /^[\x21-\x7e\u00a0-\uffff]+$/.test(key) ? key : JSON.stringify(key);
}

// ---------------------------------------------------------------- get

/** Chunks to write for `get` (values raw, so binary values survive a redirect). */
export function formatGet(res: GetResponse, showContext: boolean): Array<string | Uint8Array> {
  const out: Array<string | Uint8Array> = [];
  const siblings = res.siblings;
  if (siblings.length === 1) {
    out.push(siblings[0]?.value ?? new Uint8Array(0), "\n");
  } else {
    out.push(
      `${siblings.length} siblings (concurrent writes; resolve with put <key> <value> --context <context>)\n`,
    );
    siblings.forEach((s, i) => {
      out.push(`[${i + 1}] `, s.value, "\n");
    });
  }
  // With siblings the context is what resolves them, so it is printed unasked.
  if (showContext || siblings.length > 1) out.push(`context: ${toBase64(res.context)}\n`);
  return out;
}

export interface SiblingJson {
  /** The value as text, when it is valid UTF-8. */
  value?: string;
  valueBase64: string;
  timestampMs: number;
}

export interface GetJson {
  key: string;
  found: boolean;
  siblings: SiblingJson[];
  context: string;
  replicasAnswered: number;
}

export function getToJson(key: string, res: GetResponse): GetJson {
  return {
    key,
    found: res.found,
    siblings: res.siblings.map((s) => {
      const text = decodeUtf8(s.value);
      return {
        ...(text === undefined ? {} : { value: text }),
        valueBase64: toBase64(s.value),
        timestampMs: Number(s.timestampMs),
      };
    }),
    context: toBase64(res.context),
    replicasAnswered: res.replicasAnswered,
  };
}

// ---------------------------------------------------------------- put / delete

export function formatAcked(verb: string, replicasAcked: number): string {
  if (replicasAcked === 0) return `${verb}\n`;
  return `${verb} (${replicasAcked} ${replicasAcked === 1 ? "replica" : "replicas"} acked)\n`;
}

// ---------------------------------------------------------------- batch

export interface BatchResultJson {
  key: string;
  ok: boolean;
  errorCode?: string;
  errorMessage?: string;
  context?: string;
}

export function batchResultToJson(key: string, r: BatchResult | undefined): BatchResultJson {
  if (r === undefined) {
    return { key, ok: false, errorCode: "unknown", errorMessage: "no result from the server" };
  }
  if (r.ok) return { key, ok: true, context: toBase64(r.context) };
  return { key, ok: false, errorCode: r.errorCode || "unknown", errorMessage: r.errorMessage };
}

export function formatBatch(results: readonly BatchResultJson[]): string {
  const keys = results.map((r) => displayKey(r.key));
  const width = Math.max(...keys.map((k) => k.length));
  const num = String(results.length).length;
  const lines = results.map((r, i) => {
    const head = `[${String(i + 1).padStart(num)}] put ${(keys[i] ?? "").padEnd(width)}  `;
    return r.ok ? `${head}ok` : `${head}FAILED ${r.errorCode}: ${r.errorMessage}`;
  });
  const failed = results.filter((r) => !r.ok).length;
  const summary =
    failed === 0
      ? `${results.length} of ${results.length} operations succeeded`
      : `${failed} of ${results.length} operations failed`;
  return `${lines.join("\n")}\n${summary}\n`;
}

// ---------------------------------------------------------------- status

const STATE_NAMES: Readonly<Record<number, string>> = {
  [NodeState.UNSPECIFIED]: "unknown",
  [NodeState.ALIVE]: "alive",
  [NodeState.SUSPECT]: "suspect",
  [NodeState.DEAD]: "dead",
  [NodeState.JOINING]: "joining",
  [NodeState.LEAVING]: "leaving",
  [NodeState.LEFT]: "left",
};

export function nodeStateName(state: NodeState): string {
  return STATE_NAMES[state] ?? `state ${state}`;
}

/** `2s ago`, `5m ago`, `3h ago`, `2d ago`; `never` for 0; clock skew ahead reads `just now`. */
export function formatAgo(thenMs: number, nowMs: number): string {
  if (thenMs <= 0) return "never";
  const s = Math.floor((nowMs - thenMs) / 1000);
  if (s < 0) return "just now";
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}

/** `42s`, `3m 7s`, `1h 2m 3s`, `2d 4h 0m`. */
export function formatUptime(seconds: number): string {
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  if (d > 0) return `${d}d ${h}h ${m}m`;
  if (h > 0) return `${h}h ${m}m ${s}s`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}

function labelled(pairs: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(...pairs.map(([label]) => label.length)) + 1;
  return pairs.map(([label, value]) => `  ${`${label}:`.padEnd(width)}  ${value}`);
}

function formatMetrics(m: NodeMetrics): string[] {
  return labelled([
    ["Total requests", String(m.requestsTotal)],
    ["Failed requests", String(m.requestsFailed)],
    ["Average latency", `${m.latencyAvgMs.toFixed(2)} ms`],
    ["p50 latency", `${m.latencyP50Ms.toFixed(2)} ms`],
    ["p99 latency", `${m.latencyP99Ms.toFixed(2)} ms`],
    ["Uptime", formatUptime(Number(m.uptimeSeconds))],
    ["Hints pending", String(m.hintsPending)],
    ["Storage", formatBytes(Number(m.storageBytes))],
  ]);
}

/** The cluster health report of `status`. */
export function formatStatus(res: StatusResponse, nowMs: number): string {
  const answeredBy = res.nodeId === "" ? "" : ` (as seen by ${res.nodeId})`;
  const summary: Array<readonly [string, string]> = [
    ["Total nodes", String(res.totalNodes)],
    ["Alive", String(res.aliveNodes)],
    ["Dead", String(res.deadNodes)],
    ["Availability", `${res.availabilityPercent.toFixed(1)}%`],
  ];
  if (res.replicas > 0) {
    summary.push([
      "Replication",
      `N=${res.replicas}, R=${res.readQuorum}, W=${res.writeQuorum}, ${res.virtualNodes} virtual nodes per node`,
    ]);
  }
  const lines = [`Cluster status${answeredBy}`, ...labelled(summary), "", "Nodes:"];
  if (res.nodes.length === 0) {
    lines.push("  (none reported)");
  } else {
    const rows = [
      ["ID", "ADDRESS", "STATE", "LAST SEEN"],
      ...res.nodes.map((n) => [
        n.id || "-",
        n.address || "-",
        nodeStateName(n.state),
        // A node need not track when it last heard from itself.
        n.id === res.nodeId && n.lastSeenMs === 0n
          ? "this node"
          : formatAgo(Number(n.lastSeenMs), nowMs),
      ]),
    ];
    lines.push(...table(rows).map((l) => `  ${l}`));
  }
  lines.push("");
  if (res.streaming !== undefined && res.streaming.kind !== "") {
    lines.push(`Hand-over (${res.nodeId || "this node"}): ${formatStreaming(res.streaming)}`, "");
  }
  if (res.metrics === undefined) {
    lines.push("Metrics: not reported");
  } else {
    lines.push(
      `Metrics${res.nodeId === "" ? "" : ` (${res.nodeId})`}:`,
      ...formatMetrics(res.metrics),
    );
  }
  return `${lines.join("\n")}\n`;
}

// ---------------------------------------------------------------- repair

function plural(n: number | bigint, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 || n === 1n ? one : many}`;
}

/** One progress line of a repair round. */
export function formatRepairProgress(r: RepairResponse): string {
  return (
    `repairing ${r.nodeId || "?"}: ${r.rangesCompared}/${r.rangesTotal} ranges, ` +
    `${plural(r.peersCompared, "replica")} compared` +
    (r.peersFailed > 0 ? ` (${r.peersFailed} failed)` : "") +
    `, ${plural(r.keysRepaired, "key")} repaired, ${formatBytes(Number(r.bytesExchanged))} exchanged`
  );
}

/** The result of a repair round. */
export function formatRepair(r: RepairResponse): string {
  const lines = [
    `Repair of ${r.nodeId || "?"} ${r.peersFailed > 0 ? "finished with failures" : "done"} in ${r.elapsedSeconds.toFixed(1)}s`,
    ...labelled([
      ["Ranges compared", `${r.rangesCompared} of ${r.rangesTotal}`],
      ["Replicas compared", String(r.peersCompared)],
      ["Comparisons failed", String(r.peersFailed)],
      ["Keys differing", String(r.keysDiffering)],
      ["Keys repaired", String(r.keysRepaired)],
      [
        "Bytes exchanged",
        `${formatBytes(Number(r.bytesExchanged))} (${formatBytes(Number(r.treeBytes))} comparing trees)`,
      ],
      ["Tombstones purged", String(r.tombstonesPurged)],
    ]),
  ];
  if (r.failures.length > 0) {
    lines.push("", "Failed comparisons:", ...r.failures.map((f) => `  ${f}`));
  }
  return `${lines.join("\n")}\n`;
}

// ---------------------------------------------------------------- cleanup

/** One progress line of a cleanup. */
export function formatCleanupProgress(r: CleanupResponse): string {
  return (
    `cleaning up ${r.nodeId || "?"}: ${plural(r.keysScanned, "key")} scanned, ` +
    `${r.keysRemoved} removed (${formatBytes(Number(r.bytesRemoved))})`
  );
}

/** The result of a cleanup. */
export function formatCleanup(r: CleanupResponse): string {
  const lines = [
    `Cleanup of ${r.nodeId || "?"} done in ${r.elapsedSeconds.toFixed(1)}s`,
    ...labelled([
      ["Keys scanned", String(r.keysScanned)],
      ["Keys removed", String(r.keysRemoved)],
      ["Bytes removed", formatBytes(Number(r.bytesRemoved))],
    ]),
  ];
  return `${lines.join("\n")}\n`;
}

// ---------------------------------------------------------------- decommission

/** One progress line of a hand-over as a node's StatusResponse.streaming reports it. */
export function formatStreaming(s: StreamingStatus): string {
  const what = s.kind === "join" ? "streaming in" : "handing over";
  const scanned =
    s.keysEstimated > 0n ? `${s.keysScanned} of ~${s.keysEstimated}` : String(s.keysScanned);
  return (
    `${what}: ${s.peersDone}/${s.peersTotal} ${s.kind === "join" ? "sources" : "targets"} done, ` +
    `${plural(s.keysMoved, "key")} moved (${formatBytes(Number(s.bytesMoved))}), ` +
    `${scanned} scanned, ${s.elapsedSeconds.toFixed(0)}s`
  );
}

// ---------------------------------------------------------------- removenode

/** The result of `removenode`: what happened and what to run next, on one line. */
export function formatRemoveNode(nodeId: string): string {
  return (
    `${nodeId} removed: marked left (gossip tells every node); its ranges move to the remaining nodes, ` +
    `run "distkv-client repair" on each of them to copy its data from the surviving replicas now ` +
    `(anti-entropy does it on its next round otherwise)\n`
  );
}
