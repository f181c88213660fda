import { Code, ConnectError } from "@connectrpc/connect";
import type { HistoryRecorder } from "@distkv/history";
import type { GetResponse } from "@distkv/rpc";
import type { ChaosCluster } from "./cluster.js";

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** Strings on the wire: keys and register values are UTF-8. */
export const encodeText = (s: string): Uint8Array => utf8.encode(s);
export const decodeText = (b: Uint8Array): string => fromUtf8.decode(b);

/** The Connect code name of an error (`unavailable`, `deadline_exceeded`, ...). */
export function errorCodeOf(e: unknown): string {
  const code = ConnectError.from(e).code;
  return (Code[code] ?? `code_${code}`).replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}

/** One line for the history: code and message, short. */
export function describeError(e: unknown): string {
  const err = ConnectError.from(e);
  const text = `${errorCodeOf(e)}: ${err.rawMessage}`;
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

/** Errors seen by the clients, counted by operation kind and Connect code, with samples. */
export class ErrorCounts {
  private readonly counts = new Map<string, number>();
  private readonly samplesByCode = new Map<string, string[]>();

  constructor(private readonly samplesPerCode = 3) {}

  add(kind: string, e: unknown): void {
    const code = errorCodeOf(e);
    const k = `${kind} ${code}`;
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
    let samples = this.samplesByCode.get(code);
    if (samples === undefined) {
      samples = [];
      this.samplesByCode.set(code, samples);
    }
    if (samples.length < this.samplesPerCode) samples.push(`${kind}: ${describeError(e)}`);
  }

  /** The first few errors of each code, with their messages. */
  samples(): [string, readonly string[]][] {
    return [...this.samplesByCode].sort(([a], [b]) => a.localeCompare(b));
  }

  /** `"kind code" -> count`, sorted. */
  entries(): [string, number][] {
    return [...this.counts].sort(([a], [b]) => a.localeCompare(b));
  }
}

/** What every workload client shares: the cluster, the recorder, the deadlines, the stop flag. */
export interface WorkloadContext {
  readonly cluster: ChaosCluster;
  readonly recorder: HistoryRecorder;
  /** Each request's deadline, sent in its options: the server must answer by then. */
  readonly deadlineMs: number;
  /**
   * How long the client waits before giving up on its own (recorded as `info` at that time).
   * Longer than `deadlineMs`, so that a server that overruns its deadline shows in the history.
   */
  readonly localTimeoutMs: number;
  readonly errors: ErrorCounts;
  /** True once the workload phase is over: clients finish their operation and stop. */
  stopped(): boolean;
}

/**
 * The node a client sends to: its home node while that runs, else the next running node in id
 * order (a client-side load balancer that skips nodes it knows are down or frozen). Undefined
 * when no node runs.
 */
export function entryNode(cluster: ChaosCluster, home: string): string | undefined {
  const ids = cluster.ids;
  const start = ids.indexOf(home);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[(start + i) % ids.length]!;
    if (cluster.node(id).state === "running") return id;
  }
  return undefined;
}

/** A quorum get with the run's deadlines. */
export function getKey(ctx: WorkloadContext, entry: string, key: string): Promise<GetResponse> {
  return ctx.cluster
    .client(entry)
    .kv.get(
      { key: encodeText(key), options: { timeoutMs: ctx.deadlineMs } },
      { timeoutMs: ctx.localTimeoutMs },
    );
}

/** A quorum put with the run's deadlines; `context` from a get, or blind when undefined. */
export async function putKey(
  ctx: WorkloadContext,
  entry: string,
  key: string,
  value: Uint8Array,
  context: Uint8Array | undefined,
): Promise<void> {
  await ctx.cluster.client(entry).kv.put(
    {
      key: encodeText(key),
      value,
      ...(context === undefined ? {} : { context }),
      options: { timeoutMs: ctx.deadlineMs },
    },
    { timeoutMs: ctx.localTimeoutMs },
  );
}

/** A quorum delete with the run's deadlines. */
export async function deleteKey(
  ctx: WorkloadContext,
  entry: string,
  key: string,
  context: Uint8Array | undefined,
): Promise<void> {
  await ctx.cluster.client(entry).kv.delete(
    {
      key: encodeText(key),
      ...(context === undefined ? {} : { context }),
      options: { timeoutMs: ctx.deadlineMs },
    },
    { timeoutMs: ctx.localTimeoutMs },
  );
}

/** Waits `ms`, or less if `signal` aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
