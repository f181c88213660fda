import { setMaxListeners } from "node:events";
import { type Codec, createCodec } from "@distkv/vclock";
import { type Clock, systemClock } from "./clock.js";
import { describeError } from "./core.js";
import { AbortedError, InvalidQuorumOptionsError } from "./errors.js";
import type { Hint, HintStore } from "./hint-store.js";
import { type QuorumLogger, silentLogger } from "./logger.js";
import type { MembershipEvent, MembershipView } from "./membership-view.js";
import {
  type HintedHandoffOptions,
  type ResolvedHintedHandoffOptions,
  resolveHintedHandoffOptions,
} from "./options.js";
import type { ReplicaTransport } from "./replica-transport.js";
import { QuorumStats } from "./stats.js";

export interface HintedHandoffInit {
  membership: MembershipView;
  hintStore: HintStore;
  transport: ReplicaTransport;
  options?: HintedHandoffOptions;
  /** @default systemClock */
  clock?: Clock;
  /** Encodes hints for the wire. @default createCodec() */
  codec?: Codec;
  /** Shared with this node's Coordinator and Replica. @default a new QuorumStats */
  stats?: QuorumStats;
  logger?: QuorumLogger;
}

/** Outcome of one delivery run. */
export interface HandoffResult {
  /** Hints the owners acknowledged and that were then deleted. */
  readonly delivered: number;
  /** Hints deleted undelivered because they were older than `maxAgeMs`. */
  readonly expired: number;
  /** Hint deliveries that failed (the hints stay for the next run). */
  readonly failed: number;
}

/**
 * Hands hints back to their owners. A delivery to a target starts when the membership view
 * reports it "up", and for every live target each `intervalMs`; it sends the target's hints in
 * batches of `batchSize` as normal replica writes and deletes each hint only after the owner
 * acknowledged it (and only if it did not change meanwhile: a hint merged with newer data stays
 * for the next round). A failure ends that target's run; the next event or sweep retries.
 * At most one run per target at a time. A hint older than `maxAgeMs` is never delivered: the
 * run deletes it instead, and each sweep first deletes every such hint, of live and down
 * targets alike, so the age of the data a hint can hand back is bounded (tombstone GC relies
 * on it).
 */
export class HintedHandoff {
  readonly options: ResolvedHintedHandoffOptions;
  private readonly membership: MembershipView;
  private readonly hintStore: HintStore;
  private readonly transport: ReplicaTransport;
  private readonly clock: Clock;
  private readonly codec: Codec;
  private readonly stats: QuorumStats;
  private readonly logger: QuorumLogger;
  private readonly runs = new Map<string, Promise<HandoffResult>>();
  private controller = new AbortController();
  private unsubscribe: (() => void) | undefined;
  private cancelSweep: (() => void) | undefined;
  private started = false;

  constructor(init: HintedHandoffInit) {
    if (!init?.membership || !init.hintStore || !init.transport) {
      throw new InvalidQuorumOptionsError(
        "hinted handoff init needs membership, hintStore and transport",
      );
    }
    this.options = resolveHintedHandoffOptions(init.options);
    this.membership = init.membership;
    this.hintStore = init.hintStore;
    this.transport = init.transport;
    this.clock = init.clock ?? systemClock;
    this.codec = init.codec ?? createCodec();
    this.stats = init.stats ?? new QuorumStats();
    this.logger = init.logger ?? silentLogger;
    const hints = init.hintStore;
    this.stats.attachPendingHints(() => hints.size);
  }

  get running(): boolean {
    return this.started;
  }

  /** Targets with a delivery run in progress. */
  get activeDeliveries(): number {
    return this.runs.size;
  }

  /** Subscribes to membership events and starts the periodic sweep. Idempotent. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.controller = new AbortController();
    this.unsubscribe = this.membership.subscribe((event: MembershipEvent) => {
      if (event.type === "up") void this.deliver(event.nodeId);
    });
    this.scheduleSweep();
  }

  /** Stops events and the sweep, aborts deliveries in flight and waits for them to end. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.cancelSweep?.();
    this.cancelSweep = undefined;
    this.controller.abort(new AbortedError("hinted handoff stopped"));
    await Promise.all([...this.runs.values()]);
  }

  /**
   * Delivers the hints held for `targetNodeId` now, if the membership view reports it alive.
   * Joins the run in progress for that target, if any. Never rejects.
   */
  deliver(targetNodeId: string, options: { signal?: AbortSignal } = {}): Promise<HandoffResult> {
    const running = this.runs.get(targetNodeId);
    if (running !== undefined) return running;
    const run = this.runTarget(targetNodeId, options.signal).finally(() => {
      this.runs.delete(targetNodeId);
    });
    this.runs.set(targetNodeId, run);
    return run;
  }

  /** Delivers to every live target that has hints. Never rejects. */
  async deliverAll(options: { signal?: AbortSignal } = {}): Promise<HandoffResult> {
    let targets: string[];
    try {
      targets = await this.hintStore.targets();
    } catch (e) {
      this.logger.warn("hint store targets() failed", { error: describeError(e) });
      return { delivered: 0, expired: 0, failed: 0 };
    }
    const results = await Promise.all(targets.map((t) => this.deliver(t, options)));
    return {
      delivered: results.reduce((a, r) => a + r.delivered, 0),
      expired: results.reduce((a, r) => a + r.expired, 0),
      failed: results.reduce((a, r) => a + r.failed, 0),
    };
  }

  /**
   * Deletes every hint older than `maxAgeMs` (none when it is 0); returns how many. Each sweep
   * runs it before delivering. Never rejects.
   */
  async expire(): Promise<number> {
    const { maxAgeMs } = this.options;
    if (maxAgeMs === 0) return 0;
    try {
      const n = await this.hintStore.expire(this.clock.nowMs() - maxAgeMs);
      this.stats.hintsExpired += n;
      if (n > 0) this.logger.warn("hints expired undelivered", { count: n, maxAgeMs });
      return n;
    } catch (e) {
      this.logger.warn("hint store expire() failed", { error: describeError(e) });
      return 0;
    }
  }

  private scheduleSweep(): void {
    if (this.options.intervalMs === 0 || !this.started) return;
    this.cancelSweep = this.clock.schedule(() => {
      void this.expire()
        .then(() => this.deliverAll())
        .finally(() => this.scheduleSweep());
    }, this.options.intervalMs);
  }

  private async runTarget(target: string, signal: AbortSignal | undefined): Promise<HandoffResult> {
    let delivered = 0;
    let expired = 0;
    let failed = 0;
    // One signal for the run (stop or the caller's abort); each delivery of a batch listens to
    // it, so it gets up to batchSize listeners by design.
    const run = new AbortController();
    setMaxListeners(0, run.signal);
    const stopSignal = this.controller.signal;
    const abort = () => run.abort(new AbortedError("hint delivery aborted"));
    stopSignal.addEventListener("abort", abort, { once: true });
    signal?.addEventListener("abort", abort, { once: true });
    if (stopSignal.aborted || signal?.aborted) abort();
    try {
      while (!run.signal.aborted && this.membership.isAlive(target)) {
        const batch = await this.hintStore.list(target, this.options.batchSize);
        if (batch.length === 0) break;
        const outcomes = await Promise.all(batch.map((hint) => this.deliverOne(hint, run.signal)));
        let deleted = 0;
        for (const o of outcomes) {
          if (o === "failed") failed++;
          else if (o === "delivered") {
            delivered++;
            deleted++;
          } else if (o === "expired") {
            expired++;
            deleted++;
          }
        }
        // Stop on any failure (the target is probably gone again) or when nothing could be
        // deleted (every hint changed meanwhile): the next event or sweep continues.
        if (failed > 0 || deleted === 0) break;
      }
    } catch (e) {
      this.logger.warn("hinted handoff run failed", { target, error: describeError(e) });
    } finally {
      stopSignal.removeEventListener("abort", abort);
      signal?.removeEventListener("abort", abort);
    }
    return { delivered, expired, failed };
  }

  private async deliverOne(
    hint: Hint,
    runSignal: AbortSignal,
  ): Promise<"delivered" | "expired" | "kept" | "failed"> {
    const { maxAgeMs } = this.options;
    if (maxAgeMs > 0 && this.clock.nowMs() - hint.createdMs > maxAgeMs) {
      if (!(await this.hintStore.delete(hint.targetNodeId, hint.key, hint.version))) return "kept";
      this.stats.hintsExpired++;
      return "expired";
    }
    const timeoutMs = this.options.deliveryTimeoutMs;
    const controller = new AbortController();
    const abort = () => controller.abort(runSignal.reason);
    runSignal.addEventListener("abort", abort, { once: true });
    if (runSignal.aborted) abort();
    const cancelTimer = this.clock.schedule(
      () => controller.abort(new AbortedError(`hint delivery timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    const deadlineMs = this.clock.nowMs() + timeoutMs;
    try {
      if (controller.signal.aborted) throw controller.signal.reason;
      const bytes = this.codec.encodeSiblingSet(hint.set);
      await abortable(
        this.transport.write(
          hint.targetNodeId,
          hint.key,
          { set: hint.set, bytes },
          { signal: controller.signal, deadlineMs, timeoutMs },
        ),
        controller.signal,
      );
    } catch (e) {
      this.stats.hintDeliveryFailures++;
      this.logger.debug("hint delivery failed", {
        target: hint.targetNodeId,
        error: describeError(e),
      });
      return "failed";
    } finally {
      cancelTimer();
      runSignal.removeEventListener("abort", abort);
    }
    const deleted = await this.hintStore.delete(hint.targetNodeId, hint.key, hint.version);
    if (!deleted) return "kept";
    this.stats.hintsDelivered++;
    return "delivered";
  }
}

/** Rejects when `signal` aborts, even if `promise` (a transport call) ignores the signal. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}
