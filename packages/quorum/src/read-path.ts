import {
  context,
  EMPTY_SIBLING_SET,
  isStale,
  liveSiblings,
  resolveLww,
  type SiblingSet,
  sync,
  syncAll,
} from "@distkv/vclock";
import type { ConflictPolicy } from "./consistency.js";
import { type CoordinatorCore, describeError } from "./core.js";
import { DeadlineExceededError, type ReplicaFailure, UnavailableError } from "./errors.js";
import type { GetResult } from "./request.js";

export interface ReadParams {
  readonly key: Uint8Array;
  readonly needed: number;
  readonly policy: ConflictPolicy;
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
}

function resultOf(
  core: CoordinatorCore,
  merged: SiblingSet<Uint8Array>,
  replicasAnswered: number,
): GetResult {
  return {
    found: merged.siblings.some((s) => s.value !== null),
    siblings: liveSiblings(merged).map((s) => ({
      value: s.value as Uint8Array,
      timestampMs: s.timestampMs,
    })),
    context: core.codec.encodeContext(context(merged)),
    replicasAnswered,
    set: merged,
  };
}

/**
 * The read whose one replica to ask is this node (N = 1, or R = 1 with the other replicas
 * down) and whose caller passed no signal: no message to send, no reply to wait for but the
 * store's, no one to repair, so no request scope (the scope's timer, promise and closures and
 * the read's own maps and closures were about a third of a one-node read's allocations). Unlike the general path it has no deadline of its own: a
 * local read does not wait on the network, and the server bounds every call anyway.
 */
function readLocalOnly(
  core: CoordinatorCore,
  p: ReadParams,
  failures: ReplicaFailure[],
): Promise<GetResult> {
  let call: Promise<SiblingSet<Uint8Array> | undefined>;
  try {
    call = core.store.read(p.key);
  } catch (e) {
    call = Promise.reject(e);
  }
  return call.then(
    (set) => {
      const reply = set ?? EMPTY_SIBLING_SET;
      return resultOf(core, p.policy === "lww" ? resolveLww(reply) : reply, 1);
    },
    (error: unknown) => {
      failures.push({
        nodeId: core.localId,
        reason: "error",
        message: describeError(error),
        cause: error,
      });
      throw new UnavailableError("read", 1, 0, failures);
    },
  );
}

/**
 * Coordinates one get: asks the live replicas of the key (never substitutes: they hold hints,
 * not data) -- all of them, or (see `readAllShare`) only `needed` of them, this node first,
 * asking the next one when a replica fails or is slower than `speculativeRetryMs` -- answers
 * once `needed` replied with the clock-merge of the replies, and repairs stale replicas among
 * those that replied in the background. Replies that arrive after the answer (until the
 * deadline) are merged in too: if one brings something new, the replicas that answered earlier
 * are repaired with it as well.
 *
 * Any node may coordinate a read: it creates no dots.
 */
export function runRead(core: CoordinatorCore, p: ReadParams): Promise<GetResult> {
  const { key, needed } = p;
  const local = core.localId;
  const preference = core.ring().preferenceList(key, core.options.replicas);
  if (
    preference.length === 1 &&
    preference[0] === local &&
    needed === 1 &&
    p.signal === undefined
  ) {
    // N = 1 on this node: the common case of readLocalOnly, without the lists below.
    return readLocalOnly(core, p, []);
  }
  const alive = preference.filter((id) => core.isAlive(id));
  const failures: ReplicaFailure[] = preference
    .filter((id) => !core.isAlive(id))
    .map((nodeId) => ({ nodeId, reason: "down", message: "down per membership" }));
  if (alive.length < needed) {
    const detail =
      preference.length < needed
        ? `the ring has only ${preference.length} of the ${core.options.replicas} replicas`
        : `only ${alive.length} replicas are alive`;
    throw new UnavailableError("read", needed, 0, failures, detail);
  }

  // This node first (a local read costs no message), then preference order.
  const order = alive.includes(local) ? [local, ...alive.filter((id) => id !== local)] : alive;
  if (order.length === 1 && needed === 1 && order[0] === local && p.signal === undefined) {
    return readLocalOnly(core, p, failures);
  }
  let asked = 0;
  const replies = new Map<string, SiblingSet<Uint8Array>>();
  /** What each replica holds as far as we know: its reply, plus the repairs we sent it. */
  const known = new Map<string, SiblingSet<Uint8Array>>();
  const pending = new Set<string>();
  const scope = core.openScope<GetResult>(p.timeoutMs, p.signal, () => {
    return new DeadlineExceededError(
      "read",
      p.timeoutMs,
      needed,
      replies.size,
      [...pending],
      failures,
    );
  });

  const merge = (): SiblingSet<Uint8Array> => {
    const merged = syncAll(replies.values());
    return p.policy === "lww" ? resolveLww(merged) : merged;
  };

  const answer = () => scope.resolve(resultOf(core, merge(), replies.size));

  const repair = () => {
    if (!core.options.readRepair || scope.done || replies.size === 0) return;
    const merged = merge();
    let bytes: Uint8Array | undefined;
    for (const [nodeId, has] of known) {
      if (!isStale(has, merged)) continue;
      known.set(nodeId, sync(has, merged));
      core.stats.readRepairsSent++;
      let call: Promise<unknown>;
      try {
        if (nodeId === local) {
          call = core.store.merge(key, merged, { signal: scope.signal });
        } else {
          bytes ??= core.codec.encodeSiblingSet(merged);
          call = core.transport.write(nodeId, key, { set: merged, bytes }, scope.callOptions());
        }
      } catch (e) {
        call = Promise.reject(e);
      }
      scope.track(
        call.catch((error: unknown) => {
          core.stats.readRepairsFailed++;
          core.logger.debug("read repair failed", { nodeId, error: describeError(error) });
        }),
      );
    }
  };

  const askNext = () => {
    if (asked < order.length && !scope.settled) ask(order[asked++]!);
  };
  const ask = (nodeId: string) => {
    pending.add(nodeId);
    let call: Promise<SiblingSet<Uint8Array> | undefined>;
    try {
      // The local read gets no signal: it is short, and a signal per request (created here,
      // aborted when the request finishes) was a tenth of a one-node server's CPU.
      call =
        nodeId === local
          ? core.store.read(key)
          : core.transport.read(nodeId, key, scope.callOptions());
    } catch (e) {
      call = Promise.reject(e);
    }
    scope.track(
      call
        .then(
          (set) => {
            pending.delete(nodeId);
            if (scope.done) return;
            const reply = set ?? EMPTY_SIBLING_SET;
            replies.set(nodeId, reply);
            known.set(nodeId, reply);
            if (!scope.settled && replies.size >= needed) answer();
            repair();
          },
          (error: unknown) => {
            pending.delete(nodeId);
            if (scope.done) return;
            failures.push({ nodeId, reason: "error", message: describeError(error), cause: error });
            askNext();
            if (!scope.settled && replies.size + pending.size < needed) {
              scope.reject(new UnavailableError("read", needed, replies.size, failures));
              repair();
            }
          },
        )
        .catch((e: unknown) => scope.reject(e)),
    );
  };
  const first = core.readAll() ? order.length : needed;
  while (asked < first) ask(order[asked++]!);
  if (asked < order.length && core.options.speculativeRetryMs > 0) {
    // A slow replica should not make the read wait for the deadline: ask one more.
    const cancel = core.clock.schedule(() => {
      if (!scope.settled && replies.size + pending.size <= needed) askNext();
    }, core.options.speculativeRetryMs);
    scope.promise.then(cancel, cancel);
  }
  return scope.promise;
}
