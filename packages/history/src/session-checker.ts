import type { History, Operation } from "./operation.js";
import { byInvocation, describeOperation, validateHistory } from "./operation.js";
import type { SessionOptions } from "./options.js";
import { resolveSessionOptions } from "./options.js";
import type { Verdict } from "./verdict.js";

/**
 * Session guarantees in causal terms, per key, for the register workload (reads, writes and
 * deletes with unique values per key).
 *
 * Versions. Every write is a version named by its value; a delete is a tombstone version (named
 * by its `value` if it has one). Reads only show live versions.
 *
 * Causal past. `Past(x)`, the versions x supersedes (x included), is not recorded by DistKV's
 * clients, so the checker uses the largest set that DistKV's semantics allow, which makes every
 * reported anomaly real (no false alarms) at the cost of missing some:
 * - a write with a context (`context` = the values of the read it came from) supersedes exactly
 *   what those values supersede: `Past(x) = {x} ∪ Past(c) for c in context`, limited to
 *   versions invoked before x was (the context was read before x was sent);
 * - a blind write (no context) supersedes whatever the coordinator's replica held; the checker
 *   assumes it may hold any version invoked before x completed: `Past(x) = {x} ∪ {z : z invoked
 *   at or before x completed}`;
 * - along a chain, times only shrink the set (a version cannot supersede one created after it).
 * `x covers w` means w ∈ Past(x). An `info` write is taken to complete at +infinity.
 *
 * Sessions. A session is one process's operations through one coordinator (see
 * `perCoordinator`). For a read r of the session, "earlier" means completed before r was invoked.
 * A value is accounted for by r if one of r's values covers it, or if some delete invoked before
 * r completed covers it (tombstones are invisible, so one may be the version that hides it).
 * - read-your-writes: every value of an earlier `ok` write of the session is accounted for;
 * - monotonic reads: every value of an earlier `ok` read of the session is accounted for.
 *
 * Writes and reads of other sessions never create obligations, and a session's own deletes are
 * not checked (their tombstones are invisible). Values a read returns that no write wrote are
 * left out and counted (`unknownValues`; the linearizability checker reports them).
 */
export interface SessionAnomaly {
  readonly kind: "read-your-writes" | "monotonic-reads";
  readonly key: string;
  readonly process: string;
  /** The session's coordinator; null when operations do not say (or `perCoordinator` is off). */
  readonly coordinator: string | null;
  /** The read that does not reflect the session's past. */
  readonly read: Operation;
  /** The latest earlier write (read-your-writes) or read (monotonic reads) it misses. */
  readonly earlier: Operation;
  /** The value of `earlier` the read does not account for. */
  readonly missing: string;
  /** How many earlier values of this kind the read misses in all. */
  readonly missingCount: number;
  readonly message: string;
}

export interface SessionCheckResult {
  readonly verdict: Verdict;
  /** Reads, writes and deletes of register keys considered. */
  readonly operations: number;
  readonly sessions: number;
  /** `ok` reads checked against their session's past. */
  readonly readsChecked: number;
  /** The first `maxReported` anomalies, by read invocation. */
  readonly anomalies: readonly SessionAnomaly[];
  readonly counts: { readonly "read-your-writes": number; readonly "monotonic-reads": number };
  /** Read values no write of the key wrote (ignored here). */
  readonly unknownValues: number;
  /** Keys not checked, with why: `add` keys belong to the set checker; duplicate values. */
  readonly skippedKeys: readonly { readonly key: string; readonly reason: string }[];
}

interface Version {
  readonly index: number;
  readonly op: Operation;
  readonly invoke: number;
  /** +Infinity when it might still be in flight (`info`). */
  readonly complete: number;
  readonly context: readonly Version[] | null;
}

export function checkSessions(history: History, options?: SessionOptions): SessionCheckResult {
  const opts = resolveSessionOptions(options);
  const ops = validateHistory(history);
  const byKey = new Map<string, Operation[]>();
  const setKeys = new Set<string>();
  for (const op of ops) {
    if (op.type === "add") setKeys.add(op.key);
    let list = byKey.get(op.key);
    if (list === undefined) {
      list = [];
      byKey.set(op.key, list);
    }
    list.push(op);
  }

  const anomalies: SessionAnomaly[] = [];
  const counts = { "read-your-writes": 0, "monotonic-reads": 0 };
  const skippedKeys: { key: string; reason: string }[] = [];
  let operations = 0;
  let sessions = 0;
  let readsChecked = 0;
  let unknownValues = 0;

  for (const key of [...byKey.keys()].sort()) {
    if (setKeys.has(key)) {
      skippedKeys.push({ key, reason: "set workload (add operations)" });
      continue;
    }
    const keyOps = byKey.get(key)!.sort(byInvocation);
    const versions = buildVersions(keyOps);
    if (typeof versions === "string") {
      skippedKeys.push({ key, reason: versions });
      continue;
    }
    operations += keyOps.length;
    const { byValue, deletes, count: n } = versions;
    const coverMemo = new Map<number, boolean>();
    const covers = (v: Version, w: Version): boolean => {
      if (v === w) return true;
      if (v.context === null) return w.invoke <= v.complete;
      const id = v.index * n + w.index;
      let c = coverMemo.get(id);
      if (c === undefined) {
        c = coversSlow(v, w);
        coverMemo.set(id, c);
      }
      return c;
    };

    const bySession = new Map<string, Operation[]>();
    for (const op of keyOps) {
      const coordinator = opts.perCoordinator ? (op.coordinator ?? null) : null;
      const id = JSON.stringify([op.process, coordinator]);
      let list = bySession.get(id);
      if (list === undefined) {
        list = [];
        bySession.set(id, list);
      }
      list.push(op);
    }
    sessions += bySession.size;

    for (const [id, sessionOps] of bySession) {
      const coordinator = (JSON.parse(id) as [string, string | null])[1];
      // Obligations: (version, the operation that created it, when that completed).
      const writes: { v: Version; op: Operation }[] = [];
      const reads: { v: Version; op: Operation }[] = [];
      const readValues = new Set<Version>();
      for (const op of sessionOps) {
        if (op.outcome !== "ok") continue;
        if (op.type === "write") {
          writes.push({ v: byValue.get(op.value!)!, op });
          continue;
        }
        if (op.type !== "read") continue;
        readsChecked++;
        const seen: Version[] = [];
        let unknown = false;
        for (const value of new Set(op.values!)) {
          const v = byValue.get(value);
          if (v === undefined) {
            unknownValues++;
            unknown = true;
          } else {
            seen.push(v);
          }
        }
        const accounted = (w: Version): boolean => {
          // A value nobody wrote could be anything: it excuses the read (no false alarms).
          if (unknown || seen.some((v) => covers(v, w))) return true;
          // Deletes are in invocation order: only those sent before the read ended count.
          for (const d of deletes) {
            if (d.invoke > op.completeMs!) break;
            if (covers(d, w)) return true;
          }
          return false;
        };
        const check = (
          kind: SessionAnomaly["kind"],
          obligations: { v: Version; op: Operation }[],
        ) => {
          let missingCount = 0;
          let latest: { v: Version; op: Operation } | undefined;
          for (const o of obligations) {
            if (o.op.completeMs! >= op.invokeMs || accounted(o.v)) continue;
            missingCount++;
            if (latest === undefined || o.op.completeMs! > latest.op.completeMs!) latest = o;
          }
          if (latest === undefined) return;
          counts[kind]++;
          if (anomalies.length >= opts.maxReported) return;
          const missing = latest.v.op.value!;
          anomalies.push({
            kind,
            key,
            process: op.process,
            coordinator,
            read: op,
            earlier: latest.op,
            missing,
            missingCount,
            message:
              `${describeOperation(op)} does not reflect ${JSON.stringify(missing)} ` +
              `${kind === "read-your-writes" ? "that its session wrote" : "that its session already read"} ` +
              `in ${describeOperation(latest.op)}` +
              (missingCount > 1 ? ` (and ${missingCount - 1} more)` : ""),
          });
        };
        if (opts.readYourWrites) check("read-your-writes", writes);
        if (opts.monotonicReads) check("monotonic-reads", reads);
        // One obligation per value: the check depends on the value only, and the first read
        // that saw it is the earliest one to complete.
        for (const v of seen) {
          if (!readValues.has(v)) {
            readValues.add(v);
            reads.push({ v, op });
          }
        }
      }
    }
  }

  anomalies.sort((a, b) => byInvocation(a.read, b.read) || a.kind.localeCompare(b.kind));
  const total = counts["read-your-writes"] + counts["monotonic-reads"];
  return {
    verdict:
      total > 0
        ? "violation"
        : skippedKeys.some((s) => !s.reason.startsWith("set"))
          ? "unknown"
          : "ok",
    operations,
    sessions,
    readsChecked,
    anomalies,
    counts,
    unknownValues,
    skippedKeys,
  };
}

/** The key's versions by value, and its tombstones; or why the key cannot be checked. */
function buildVersions(
  ops: readonly Operation[],
): { byValue: Map<string, Version>; deletes: Version[]; count: number } | string {
  const byValue = new Map<string, Version>();
  const deletes: Version[] = [];
  const all: { op: Operation; version: Version & { context: Version[] | null } }[] = [];
  let index = 0;
  for (const op of ops) {
    if (op.type !== "write" && op.type !== "delete") continue;
    const version = {
      index: index++,
      op,
      invoke: op.invokeMs,
      complete: op.outcome === "info" ? Number.POSITIVE_INFINITY : op.completeMs!,
      context: op.context === undefined ? null : ([] as Version[]),
    };
    all.push({ op, version });
    if (op.type === "delete" && op.outcome !== "fail") deletes.push(version);
    if (op.value === undefined) continue;
    if (byValue.has(op.value)) {
      return `value ${JSON.stringify(op.value)} written twice (values must be unique per key)`;
    }
    byValue.set(op.value, version);
  }
  for (const { op, version } of all) {
    if (op.context === undefined) continue;
    for (const value of op.context) {
      const c = byValue.get(value);
      // A context naming a value nobody wrote covers nothing we can see.
      if (c !== undefined) version.context!.push(c);
    }
  }
  return { byValue, deletes, count: index };
}

/**
 * w ∈ Past(v) for a v with an explicit context: depth-first over contexts, carrying the time
 * bound (a version reached through a chain can only cover what was invoked before every link
 * of the chain was sent).
 */
function coversSlow(v: Version, w: Version): boolean {
  const stack: [Version, number][] = [[v, Number.POSITIVE_INFINITY]];
  const best = new Map<Version, number>();
  while (stack.length > 0) {
    const [x, bound] = stack.pop()!;
    if (x === w) return true;
    const eff = Math.min(bound, x.complete);
    if (w.invoke > eff) continue;
    if (x.context === null) return true;
    const next = Math.min(eff, x.invoke);
    for (const c of x.context) {
      if ((best.get(c) ?? Number.NEGATIVE_INFINITY) >= next) continue;
      best.set(c, next);
      stack.push([c, next]);
    }
  }
  return false;
}
