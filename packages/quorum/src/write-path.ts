import {
  context,
  counterOf,
  EMPTY_SIBLING_SET,
  isLimitExceededError,
  mergeVersionVectors,
  resolveLww,
  type SiblingSet,
  update,
  type VersionVector,
  versionVector,
} from "@distkv/vclock";
import type { ConflictPolicy, Consistency } from "./consistency.js";
import { type CoordinatorCore, describeError } from "./core.js";
import {
  AbortedError,
  DeadlineExceededError,
  InvalidArgumentError,
  NotCoordinatorError,
  type ReplicaFailure,
  UnavailableError,
} from "./errors.js";
import { keyId } from "./key.js";
import type { ReplicaWriteOptions, SiblingPayload } from "./replica-transport.js";
import type { WriteResult } from "./request.js";

export interface WriteParams {
  readonly key: Uint8Array;
  /** null: a delete (tombstone). */
  readonly value: Uint8Array | null;
  /** The client's decoded context; undefined: use the local copy's (overwrite). */
  readonly clientContext: VersionVector | undefined;
  readonly level: Consistency | undefined;
  readonly needed: number;
  readonly policy: ConflictPolicy;
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
}

/** One of the N-1 other copies of a write: the replica it stands for and where it goes now. */
interface Slot {
  readonly owner: string;
  target: string;
  /** The target is a substitute holding the write as a hint for `owner`. */
  hinted: boolean;
  /** Whether the target's acknowledgement counts towards W. */
  counts: boolean;
  state: "pending" | "acked" | "failed";
}

/**
 * Coordinates one put or delete. The caller has validated the arguments; from here on the only
 * errors are availability, deadline, abort and local store failures.
 *
 * 1. Plan: the key's N replicas; a replica the membership view reports down is replaced by the
 *    next live node on the ring past the preference list, which gets a hint naming the owner.
 *    If even counting every planned target W cannot be met, fail now (nothing written).
 * 2. Local step, under the per-key lock: read the own copy, `update` it with the client's
 *    context (or the copy's own: overwrite) and this node's dot, store it. Local first, so a dot
 *    is never sent out before it is durable here: if the local write failed after peers got the
 *    version, the next write here would reuse the dot for another value.
 * 3. Fan out to the other targets; answer after W acknowledgements (the local one included).
 *    A target whose call fails is replaced by the next substitute (sloppy quorum); as soon as W
 *    can no longer be met, fail with UnavailableError. Calls past W keep running until the
 *    deadline.
 */
export function runWrite(core: CoordinatorCore, p: WriteParams): Promise<WriteResult> {
  const { key } = p;
  const ring = core.ring();
  const n = core.options.replicas;
  const local = core.localId;
  const preference = ring.preferenceList(key, n);
  if (!preference.includes(local)) {
    const coordinator = preference.find((id) => core.isAlive(id));
    throw new NotCoordinatorError(local, coordinator, preference);
  }
  // `all` means all N replicas: hinted copies never count for it.
  const hintsCount = core.options.sloppyQuorum && p.level !== "all";
  const excluded = new Set(preference);
  const walker = ring.walk(key);
  // Manual next(): a for-of that breaks would close the generator for later failovers.
  const nextSubstitute = (): string | undefined => {
    for (let r = walker.next(); !r.done; r = walker.next()) {
      const id = r.value;
      if (!excluded.has(id) && core.isAlive(id)) {
        excluded.add(id);
        return id;
      }
    }
    return undefined;
  };

  // Nodes taking the key over must acknowledge as well (W + pending), or a write acknowledged
  // during a hand-over could be missing from the new owner once it replaces an old replica.
  const takingOver = core.pendingReplicas(key).filter((id) => id !== local && !excluded.has(id));
  for (const id of takingOver) excluded.add(id);
  const needed = p.needed + takingOver.length;

  const slots: Slot[] = [];
  const down: ReplicaFailure[] = [];
  for (const owner of [...preference, ...takingOver]) {
    if (owner === local) continue;
    if (core.isAlive(owner)) {
      slots.push({ owner, target: owner, hinted: false, counts: true, state: "pending" });
      continue;
    }
    down.push({ nodeId: owner, reason: "down", message: "down per membership" });
    const substitute = nextSubstitute();
    if (substitute !== undefined) {
      slots.push({ owner, target: substitute, hinted: true, counts: hintsCount, state: "pending" });
    }
  }
  const possible = 1 + slots.filter((s) => s.counts).length;
  if (possible < needed) {
    const detail =
      preference.length + takingOver.length < needed
        ? `the ring has only ${preference.length} of the ${n} replicas`
        : `at most ${possible} could acknowledge`;
    throw new UnavailableError("write", needed, 0, down, detail);
  }

  const failures: ReplicaFailure[] = [...down];
  let acks = 0;
  let hintedAcks = 0;
  const scope = core.openScope<WriteResult>(p.timeoutMs, p.signal, () => {
    const pending = slots.filter((s) => s.state === "pending").map((s) => s.target);
    return new DeadlineExceededError("write", p.timeoutMs, needed, acks, pending, failures);
  });

  const run = async () => {
    let release: () => void;
    if (scope.settled) return; // aborted before it started: nothing was written
    try {
      release = await core.lock.acquire(
        keyId(key),
        () => scope.answerSignal,
        () => new AbortedError("gave up waiting for the key lock"),
      );
    } catch {
      return; // the scope is settled already (abort, deadline or stop): nothing was written
    }
    let next: SiblingSet<Uint8Array>;
    let bytes: Uint8Array;
    let timestampMs: number;
    let superseded: VersionVector;
    try {
      if (scope.settled) return;
      const stored = (await core.store.read(key)) ?? EMPTY_SIBLING_SET;
      if (scope.settled) return;
      timestampMs = Math.max(0, Math.floor(core.clock.nowMs()));
      superseded = p.clientContext ?? context(stored);
      next = update(
        stored,
        superseded,
        p.value,
        local,
        timestampMs,
        core.options.timestampCounters ? timestampMs : 0,
      );
      if (p.policy === "lww") next = resolveLww(next);
      try {
        bytes = core.codec.encodeSiblingSet(next);
      } catch (e) {
        if (!isLimitExceededError(e)) throw e;
        throw new InvalidArgumentError(
          "siblings",
          `the key's new version exceeds a codec limit (${(e as Error).message}); ` +
            "resolve its siblings by writing with a context",
          { cause: e },
        );
      }
      const merged = await core.store.merge(key, next);
      if (p.policy === "lww" && merged.siblings.length > 1) {
        // A concurrent version arrived between our read and merge: resolve it here too.
        await core.store.merge(key, resolveLww(merged));
      }
    } catch (e) {
      scope.reject(e);
      return;
    } finally {
      release();
    }
    acks = 1;
    const version = { actor: local, counter: counterOf(next.clock, local), timestampMs };
    // Not next.clock: that also covers concurrent siblings the writer never saw, and a client
    // writing again with it would silently supersede them.
    const contextToken = core.codec.encodeContext(
      mergeVersionVectors(superseded, versionVector([[local, version.counter]])),
    );
    const answerIfDone = () => {
      if (acks >= needed) {
        scope.resolve({ context: contextToken, replicasAcked: acks, hintedAcks, version });
      }
    };
    answerIfDone();
    const payload: SiblingPayload = { set: next, bytes };
    const checkPossible = () => {
      if (scope.settled) return;
      const stillPossible = acks + slots.filter((s) => s.state === "pending" && s.counts).length;
      if (stillPossible < needed) {
        scope.reject(new UnavailableError("write", needed, acks, failures));
      }
    };
    const send = (slot: Slot) => {
      const target = slot.target;
      const options: ReplicaWriteOptions = slot.hinted
        ? { ...scope.callOptions(), hintFor: slot.owner }
        : scope.callOptions();
      if (slot.hinted) core.stats.hintsSent++;
      let call: Promise<void>;
      try {
        call = core.transport.write(target, key, payload, options);
      } catch (e) {
        call = Promise.reject(e);
      }
      scope.track(
        call.then(
          () => {
            slot.state = "acked";
            if (!slot.counts) return;
            acks++;
            if (slot.hinted) hintedAcks++;
            answerIfDone();
          },
          (error: unknown) => {
            if (scope.done) {
              slot.state = "failed";
              return;
            }
            failures.push({
              nodeId: target,
              reason: "error",
              message: describeError(error),
              cause: error,
            });
            // The target may have crashed before membership noticed: hand its copy to the next
            // substitute, as for a replica reported down (counted only if hints count).
            const substitute = nextSubstitute();
            if (substitute === undefined) {
              slot.state = "failed";
            } else {
              slot.target = substitute;
              slot.hinted = true;
              slot.counts = hintsCount;
              send(slot);
            }
            checkPossible();
          },
        ),
      );
    };
    for (const slot of slots) send(slot);
    checkPossible();
  };
  scope.track(run().catch((e: unknown) => scope.reject(e)));
  return scope.promise;
}
