import { Awareness } from "./awareness.js";
import { BroadcastQueue } from "./broadcast-queue.js";
import { type Clock, systemClock } from "./clock.js";
import { assembleDatagram, decodeDatagram, encodeDatagram, encodeMessage } from "./codec.js";
import {
  type GossipConfig,
  pushPullIntervalFor,
  type ResolvedGossipConfig,
  resolveGossipConfig,
  retransmitLimit,
  suspicionBounds,
} from "./config.js";
import { describe } from "./describe.js";
import {
  GossipAbortedError,
  GossipJoinError,
  GossipLifecycleError,
  InvalidGossipArgumentError,
} from "./errors.js";
import { MemberEvents, type MemberEventType, type MemberListener } from "./events.js";
import { type GossipLogger, silentLogger } from "./logger.js";
import {
  type Liveness,
  type Member,
  type MemberPhase,
  statusOf,
  supersedes,
  validateAddress,
  validateIncarnation,
  validateMetadata,
  validateNodeId,
  validatePhase,
} from "./member.js";
import type {
  AliveMessage,
  DeadMessage,
  GossipMessage,
  LeftMessage,
  MemberState,
  PushPullMessage,
  SuspectMessage,
  UpdateMessage,
} from "./messages.js";
import { AckTracker, type ProbeContext, relayIndirectPing, startProbe } from "./probe.js";
import { ProbeList } from "./probe-list.js";
import { exchangeState, PushPullWaiters } from "./push-pull.js";
import { pickRandom, type RandomSource, randomInt } from "./random.js";
import { Suspicion } from "./suspicion.js";
import { Timers } from "./timers.js";
import type { Transport, TransportHandler } from "./transport.js";

export interface GossipInit {
  /** This node's id: stable across restarts (the ring places nodes by id). */
  id: string;
  /** Where other members reach this node through the transport (the server: host:port). */
  address: string;
  transport: Transport;
  /** Protocol tuning; see `resolveGossipConfig`. @default the `lan` preset */
  config?: GossipConfig;
  /** @default systemClock */
  clock?: Clock;
  /** Uniform floats in [0, 1) for target selection and jitter. @default Math.random */
  random?: RandomSource;
  /** @default silentLogger */
  logger?: GossipLogger;
  /** Application metadata, at most `maxMetadataBytes`. @default empty */
  metadata?: Uint8Array;
  /** @default "normal" */
  phase?: MemberPhase;
  /**
   * The first incarnation. The default, the wall clock in ms, is higher than anything a previous
   * run of this id announced unless it refuted more than once per ms of its life or the clock
   * went back; if the cluster still remembers a higher one, this node hears it and bumps above.
   * @default Math.floor(clock.nowMs())
   */
  incarnation?: number;
}

/** Counters since construction, for metrics and tests. */
export interface GossipStats {
  datagramsSent: number;
  datagramsReceived: number;
  bytesSent: number;
  bytesReceived: number;
  /** Datagrams or requests that failed to decode. */
  malformed: number;
  probes: number;
  probeFailures: number;
  /** Suspicions accepted about other members (from own probes or from gossip). */
  suspicions: number;
  /** Times this node refuted a claim about itself by raising its incarnation. */
  refutations: number;
  pushPulls: number;
  pushPullFailures: number;
}

export interface JoinOptions {
  signal?: AbortSignal;
}

export interface LeaveOptions {
  /** @default config.leaveTimeoutMs */
  timeoutMs?: number;
  signal?: AbortSignal;
}

interface MemberRecord {
  readonly id: string;
  address: string;
  liveness: Liveness;
  phase: MemberPhase;
  incarnation: number;
  metadata: Uint8Array;
  /** When `liveness` last changed (clock ms): dead members get gossip, then are forgotten. */
  changedAtMs: number;
  suspicion: Suspicion | undefined;
  snapshot: Member;
}

type State = "created" | "running" | "left" | "stopped";

const EMPTY = new Uint8Array(0);

/**
 * Joins and leaves are rare and every member must hear them: they are retransmitted this many
 * times the usual limit, which makes missing one (about e^-(limit * (1 - loss)) per member and
 * update) practically impossible instead of a few-percent event in a 64-node cluster.
 */
const MEMBERSHIP_NEWS_WEIGHT = 3;

/**
 * A suspicion is checked by a direct ping first at this fraction of its minimum timeout, then
 * every SUSPICION_CHECK_PERIOD of it until it ends (at least twice before the earliest expiry).
 */
const SUSPICION_CHECK_START = 0.5;
const SUSPICION_CHECK_PERIOD = 0.25;

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function snapshotOf(r: MemberRecord): Member {
  return Object.freeze({
    id: r.id,
    address: r.address,
    status: statusOf(r.liveness, r.phase),
    phase: r.phase,
    incarnation: r.incarnation,
    metadata: r.metadata,
  });
}

function aliveOf(r: MemberRecord): AliveMessage {
  return {
    type: "alive",
    id: r.id,
    address: r.address,
    incarnation: r.incarnation,
    phase: r.phase,
    metadata: r.metadata,
  };
}

function isLive(r: MemberRecord): boolean {
  return r.liveness === "alive" || r.liveness === "suspect";
}

/**
 * One node's membership: SWIM failure detection (probe, indirect probe, suspicion with
 * incarnation refutation) with Lifeguard's local health and dynamic suspicion, piggybacked
 * dissemination with bounded retransmission, and periodic push-pull of the full state.
 *
 * Lifecycle: `new Gossip(init)` -> `start()` -> `join(seeds)` -> ... -> `leave()` -> `stop()`.
 * A stopped instance cannot restart; a node that rejoins creates a new one (see the README on
 * identity and incarnation).
 */
export class Gossip {
  readonly id: string;
  readonly address: string;
  readonly config: ResolvedGossipConfig;

  private state: State = "created";
  private readonly transport: Transport;
  private readonly clock: Clock;
  private readonly random: RandomSource;
  private readonly logger: GossipLogger;
  private readonly timers: Timers;
  private readonly awareness: Awareness;
  private readonly broadcasts: BroadcastQueue;
  private readonly probes: ProbeList;
  private readonly acks: AckTracker;
  private readonly waiters = new PushPullWaiters();
  private readonly events: MemberEvents;
  private readonly records = new Map<string, MemberRecord>();
  private readonly self: MemberRecord;
  private readonly probeContext: ProbeContext;
  private readonly stopController = new AbortController();
  private liveCount = 1;
  private unlisten: () => void = () => {};
  private leaving: Promise<boolean> | undefined;
  private readonly counters: GossipStats = {
    datagramsSent: 0,
    datagramsReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    malformed: 0,
    probes: 0,
    probeFailures: 0,
    suspicions: 0,
    refutations: 0,
    pushPulls: 0,
    pushPullFailures: 0,
  };

  constructor(init: GossipInit) {
    if (typeof init !== "object" || init === null) {
      throw new InvalidGossipArgumentError(`gossip init must be an object, got ${describe(init)}`);
    }
    this.config = resolveGossipConfig(init.config);
    this.id = validateNodeId(init.id);
    this.address = validateAddress(init.address);
    const t = init.transport as Partial<Transport> | undefined;
    if (typeof t?.send !== "function" || typeof t.listen !== "function") {
      throw new InvalidGossipArgumentError("transport must have send() and listen()");
    }
    this.transport = init.transport;
    this.clock = init.clock ?? systemClock;
    this.random = init.random ?? Math.random;
    this.logger = init.logger ?? silentLogger;
    const metadata = validateMetadata(init.metadata ?? EMPTY, this.config.maxMetadataBytes);
    const phase = validatePhase(init.phase ?? "normal");
    const incarnation = validateIncarnation(init.incarnation ?? Math.floor(this.clock.nowMs()));

    this.timers = new Timers(this.clock);
    this.awareness = new Awareness(this.config.awarenessMaxMultiplier);
    this.broadcasts = new BroadcastQueue(() =>
      retransmitLimit(this.config.retransmitMultiplier, this.liveCount),
    );
    this.probes = new ProbeList(this.random);
    this.acks = new AckTracker(randomInt(this.random, 2 ** 32));
    this.events = new MemberEvents(this.logger);
    this.self = this.newRecord(
      this.id,
      this.address,
      "alive",
      phase,
      incarnation,
      metadata.slice(),
    );
    this.records.set(this.id, this.self);
    this.probeContext = {
      selfId: this.id,
      selfAddress: this.address,
      config: this.config,
      awareness: this.awareness,
      timers: this.timers,
      acks: this.acks,
      send: (address, parts) => this.sendWithPiggyback(address, parts),
      helpers: (excludeId, k) => pickRandom(this.liveOthers(excludeId, true), k, this.random),
    };
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Starts listening and the periodic tasks (probe, gossip, push-pull, reconnect; each starts
   * at a random offset in its period so nodes started together do not act in lockstep). Emits
   * `join` for the local member. Throws GossipLifecycleError if already started.
   */
  start(): void {
    if (this.state !== "created") {
      throw new GossipLifecycleError(`cannot start gossip in state ${this.state}`);
    }
    this.state = "running";
    const handler: TransportHandler = {
      onMessage: (from, data) => this.onMessage(from, data),
      onRequest: (from, data) => this.onRequest(from, data),
    };
    this.unlisten = this.transport.listen(handler);
    this.events.emit({ type: "join", member: this.self.snapshot, previous: undefined });
    this.broadcastSelf(MEMBERSHIP_NEWS_WEIGHT);
    const c = this.config;
    this.timers.after(this.random() * c.probeIntervalMs, () => this.probeTick());
    this.timers.after(this.random() * c.gossipIntervalMs, () => this.gossipTick());
    if (c.pushPullIntervalMs > 0) {
      this.timers.after(this.random() * c.pushPullIntervalMs, () => this.pushPullTick());
    }
    if (c.reconnectIntervalMs > 0) {
      this.timers.after(this.random() * c.reconnectIntervalMs, () => this.reconnectTick());
    }
  }

  /**
   * Contacts the seeds (addresses; this node's own is skipped) with a full-state push-pull each,
   * in parallel. Resolves with how many answered; 0 when there was no other seed. Rejects with
   * GossipJoinError when none of them answered, GossipAbortedError when aborted. Can be called
   * again later (e.g. to re-merge after a long partition).
   */
  async join(seeds: readonly string[], options: JoinOptions = {}): Promise<number> {
    if (this.state !== "running") {
      throw new GossipLifecycleError(`cannot join in state ${this.state}`);
    }
    if (!Array.isArray(seeds)) {
      throw new InvalidGossipArgumentError(`seeds must be an array, got ${describe(seeds)}`);
    }
    const targets = [...new Set(seeds.map((s) => validateAddress(s, "seed")))].filter(
      (a) => a !== this.address,
    );
    if (targets.length === 0) return 0;
    const results = await Promise.allSettled(
      targets.map((a) => this.pushPullWith(a, true, options.signal)),
    );
    const reached = results.filter((r) => r.status === "fulfilled").length;
    if (options.signal?.aborted) throw new GossipAbortedError("join aborted");
    if (reached === 0) {
      const reasons = results.map((r) => (r.status === "rejected" ? r.reason : undefined));
      throw new GossipJoinError(`could not reach any of ${targets.length} seeds`, {
        cause: new AggregateError(reasons, "every seed failed"),
      });
    }
    return reached;
  }

  /**
   * Announces a graceful leave: the local member becomes `left` (a `leave` event), the update is
   * gossiped right away and retransmitted as usual. Probing, push-pull and refutation stop;
   * pings are still answered until `stop()`. Resolves true once the update went out
   * retransmit-limit times (or there was nobody to tell), false on timeout or `stop()`; rejects
   * with GossipAbortedError if `signal` aborts. Calling it again returns the same promise.
   */
  leave(options: LeaveOptions = {}): Promise<boolean> {
    if (this.leaving !== undefined) return this.leaving;
    if (this.state !== "running") {
      throw new GossipLifecycleError(`cannot leave in state ${this.state}`);
    }
    const timeoutMs = options.timeoutMs ?? this.config.leaveTimeoutMs;
    this.state = "left";
    const previous = this.self.snapshot;
    this.setLiveness(this.self, "left");
    this.refreshSnapshot(this.self);
    this.events.emit({ type: "leave", member: this.self.snapshot, previous });
    const message: LeftMessage = { type: "left", id: this.id, incarnation: this.self.incarnation };
    this.leaving = new Promise<boolean>((resolve, reject) => {
      let settled = false;
      const settle = (ok: boolean, error?: Error): void => {
        if (settled) return;
        settled = true;
        cancelTimer();
        options.signal?.removeEventListener("abort", onAbort);
        if (error === undefined) resolve(ok);
        else reject(error);
      };
      const onAbort = (): void => settle(false, new GossipAbortedError("leave aborted"));
      const cancelTimer = this.timers.after(timeoutMs, () => settle(false));
      if (options.signal?.aborted) {
        onAbort();
        return;
      }
      options.signal?.addEventListener("abort", onAbort, { once: true });
      if (this.gossipTargets().length === 0) {
        settle(true);
        return;
      }
      this.broadcasts.enqueue(
        this.id,
        encodeMessage(message),
        (sent) => settle(sent),
        MEMBERSHIP_NEWS_WEIGHT,
      );
      this.gossipRound();
    });
    return this.leaving;
  }

  /**
   * Removes a dead member for good (an operator's decision: the node is gone and will not
   * come back): it becomes `left` here at once (a `leave` event) and on every other member as
   * the update spreads, as if it had left gracefully, and is forgotten after the retention
   * period like any left member. Only a member this node sees as `dead` can be removed: the
   * result is false otherwise (unknown, alive, suspect or already left). A node that comes back
   * under a removed id refutes the claim like any claim about itself and is a member again, so
   * replace a removed node with a new id.
   */
  removeDead(id: string): boolean {
    if (this.state !== "running") {
      throw new GossipLifecycleError(`cannot remove a member in state ${this.state}`);
    }
    if (id === this.id) {
      throw new InvalidGossipArgumentError("a node cannot remove itself; call leave()");
    }
    const r = this.records.get(id);
    if (r === undefined || r.liveness !== "dead") return false;
    this.applyLeft({ type: "left", id, incarnation: r.incarnation }, true);
    return true;
  }

  /**
   * Stops everything at once: timers, listening, exchanges in flight (they reject with
   * GossipAbortedError). Sends nothing: call `leave()` first for a graceful exit. Idempotent.
   */
  stop(): void {
    if (this.state === "stopped") return;
    this.state = "stopped";
    this.timers.clear();
    this.acks.clear();
    this.broadcasts.clear();
    for (const r of this.records.values()) r.suspicion?.cancel();
    this.stopController.abort(new GossipAbortedError("gossip stopped"));
    this.unlisten();
  }

  /** True between `start()` and `stop()` (a node that has left is still running until stopped). */
  get running(): boolean {
    return this.state === "running" || this.state === "left";
  }

  // ---------------------------------------------------------------- the local member

  /** The local member as others should see it. */
  get localMember(): Member {
    return this.self.snapshot;
  }

  /** Replaces the local metadata: raises the incarnation, gossips it, emits `update`. */
  setMetadata(metadata: Uint8Array): void {
    validateMetadata(metadata, this.config.maxMetadataBytes);
    this.updateSelf(() => {
      this.self.metadata = metadata.slice();
    });
  }

  /** Announces a new phase (joining -> normal -> leaving): raises the incarnation, gossips it, emits `update`. */
  setPhase(phase: MemberPhase): void {
    validatePhase(phase);
    this.updateSelf(() => {
      this.self.phase = phase;
    });
  }

  /** Lifeguard's local health score: 0 when healthy, up to awarenessMaxMultiplier - 1. */
  get healthScore(): number {
    return this.awareness.score;
  }

  // ---------------------------------------------------------------- the view

  /** One member (the local one included), or undefined if unknown or forgotten. */
  member(id: string): Member | undefined {
    return this.records.get(id)?.snapshot;
  }

  /** Every known member, the local one, suspect, dead and left ones included, sorted by id. */
  members(): Member[] {
    const out: Member[] = [];
    for (const r of this.records.values()) out.push(r.snapshot);
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Members alive or suspect, the local one included (the n of the protocol's formulas). */
  get liveMembers(): number {
    return this.liveCount;
  }

  /** Listens to one kind of event; returns a function that unsubscribes. */
  on(type: MemberEventType, listener: MemberListener): () => void {
    return this.events.on(type, listener);
  }

  /** Listens to every event; returns a function that unsubscribes. */
  subscribe(listener: MemberListener): () => void {
    return this.events.subscribe(listener);
  }

  stats(): GossipStats {
    return { ...this.counters };
  }

  // ---------------------------------------------------------------- periodic tasks

  private probeTick(): void {
    if (this.state !== "running") return;
    const targetId = this.probes.next(
      () => {
        this.reap();
        return this.liveOthers(undefined, false).map((r) => r.id);
      },
      (id) => {
        const r = this.records.get(id);
        return r !== undefined && r !== this.self && isLive(r);
      },
    );
    // Probe before scheduling the next tick: at equal times the probe's end runs first.
    const target = targetId === undefined ? undefined : this.records.get(targetId);
    if (target !== undefined) {
      this.counters.probes++;
      const incarnation = target.incarnation;
      startProbe(
        this.probeContext,
        {
          id: target.id,
          address: target.address,
          incarnation,
          suspect: target.liveness === "suspect",
        },
        (outcome) => {
          if (outcome.ok || this.state !== "running") return;
          this.counters.probeFailures++;
          this.logger.debug("gossip: probe failed", {
            member: target.id,
            indirect: outcome.indirect,
            nacks: outcome.nacks,
          });
          this.applySuspect({ type: "suspect", id: target.id, incarnation, from: this.id });
        },
      );
    }
    this.timers.after(this.awareness.scale(this.config.probeIntervalMs), () => this.probeTick());
  }

  private gossipTick(): void {
    if (!this.running) return;
    this.gossipRound();
    this.timers.after(this.config.gossipIntervalMs, () => this.gossipTick());
  }

  /** Sends queued updates to `gossipNodes` random members (only when something is queued). */
  private gossipRound(): void {
    if (this.broadcasts.size === 0) return;
    const targets = pickRandom(this.gossipTargets(), this.config.gossipNodes, this.random);
    for (const t of targets) {
      const parts = this.broadcasts.take(this.config.maxDatagramBytes - 1);
      if (parts.length === 0) break;
      this.sendRaw(t.address, assembleDatagram(parts));
    }
  }

  private pushPullTick(): void {
    if (this.state !== "running") return;
    const candidates = [...this.records.values()].filter(
      (r) => r !== this.self && r.liveness === "alive",
    );
    const target = pickRandom(candidates, 1, this.random)[0];
    if (target !== undefined) this.backgroundPushPull(target.address);
    const next = pushPullIntervalFor(this.config.pushPullIntervalMs, this.liveCount);
    this.timers.after(next, () => this.pushPullTick());
  }

  /** Tries a push-pull with a random dead member: how the sides of a healed partition meet. */
  private reconnectTick(): void {
    if (this.state !== "running") return;
    const candidates = [...this.records.values()].filter((r) => r.liveness === "dead");
    const target = pickRandom(candidates, 1, this.random)[0];
    if (target !== undefined) this.backgroundPushPull(target.address);
    this.timers.after(this.config.reconnectIntervalMs, () => this.reconnectTick());
  }

  private backgroundPushPull(address: string): void {
    this.pushPullWith(address, false).catch((error: unknown) => {
      this.logger.debug("gossip: push-pull failed", { address, error });
    });
  }

  /** Forgets dead and left members older than deadRetentionMs. */
  private reap(): void {
    const now = this.clock.nowMs();
    for (const r of [...this.records.values()]) {
      if (isLive(r) || r === this.self) continue;
      if (now - r.changedAtMs < this.config.deadRetentionMs) continue;
      this.records.delete(r.id);
      this.events.emit({ type: "remove", member: r.snapshot, previous: r.snapshot });
    }
  }

  // ---------------------------------------------------------------- sending

  private sendRaw(address: string, data: Uint8Array): void {
    this.counters.datagramsSent++;
    this.counters.bytesSent += data.length;
    try {
      this.transport.send(address, data);
    } catch (error) {
      this.logger.warn("gossip: transport.send threw", { address, error });
    }
  }

  /** Sends `parts` plus as many queued updates as fit in the datagram. */
  private sendWithPiggyback(address: string, parts: Uint8Array[]): void {
    let size = 1;
    for (const p of parts) size += p.length;
    const extra = this.broadcasts.take(this.config.maxDatagramBytes - size);
    this.sendRaw(address, assembleDatagram(extra.length === 0 ? parts : parts.concat(extra)));
  }

  private broadcastUpdate(message: UpdateMessage, weight = 1): void {
    this.broadcasts.enqueue(message.id, encodeMessage(message), undefined, weight);
  }

  private broadcastSelf(weight = 1): void {
    this.broadcastUpdate(aliveOf(this.self), weight);
  }

  // ---------------------------------------------------------------- receiving

  private onMessage(from: string, data: Uint8Array): void {
    if (!this.running) return;
    this.counters.datagramsReceived++;
    this.counters.bytesReceived += data.length;
    let messages: GossipMessage[];
    try {
      messages = decodeDatagram(data);
    } catch (error) {
      this.counters.malformed++;
      this.logger.debug("gossip: malformed datagram", { from, error });
      return;
    }
    for (const m of messages) {
      if (!this.running) return;
      this.handle(m);
    }
  }

  private onRequest(from: string, data: Uint8Array): Uint8Array {
    if (!this.running) throw new GossipLifecycleError(`gossip is ${this.state}`);
    this.counters.bytesReceived += data.length;
    let request: PushPullMessage | undefined;
    try {
      request = decodeDatagram(data).find(
        (m): m is PushPullMessage => m.type === "push-pull" && !m.reply,
      );
    } catch (error) {
      this.counters.malformed++;
      this.logger.debug("gossip: malformed request", { from, error });
      throw error;
    }
    if (request === undefined) {
      this.counters.malformed++;
      throw new GossipLifecycleError("request carries no push-pull");
    }
    this.merge(request);
    const reply = encodeDatagram([this.localState(request.nonce, true, false)]);
    this.counters.bytesSent += reply.length;
    return reply;
  }

  private handle(m: GossipMessage): void {
    switch (m.type) {
      case "ping":
        // Another node's id at a reused address must not ack for this one.
        if (m.targetId !== this.id) return;
        this.sendWithPiggyback(m.sourceAddress, [encodeMessage({ type: "ack", seq: m.seq })]);
        return;
      case "indirect-ping":
        relayIndirectPing(this.probeContext, m);
        return;
      case "ack":
        this.acks.ack(m.seq);
        return;
      case "nack":
        this.acks.nack(m.seq);
        return;
      case "alive":
        this.echoIfStale(m);
        this.applyAlive(m, true);
        return;
      case "suspect":
        this.echoIfStale(m);
        this.applySuspect(m);
        return;
      case "dead":
        this.echoIfStale(m);
        this.applyDead(m);
        return;
      case "left":
        this.echoIfStale(m);
        this.applyLeft(m, true);
        return;
      case "push-pull":
        if (m.reply) {
          this.waiters.deliver(m);
          return;
        }
        this.pushPullOverDatagram(m);
        return;
    }
  }

  /** Answers a push-pull that came as a datagram (the sender's transport has no `request`). */
  private pushPullOverDatagram(request: PushPullMessage): void {
    const sender = request.members.find((s) => s.id === request.sourceId);
    this.merge(request);
    if (sender === undefined) return;
    this.sendRaw(sender.address, encodeDatagram([this.localState(request.nonce, true, false)]));
  }

  /**
   * Someone gossips a claim older than what this node knows: it missed the newer news (every
   * retransmission of an update misses a given member with probability about
   * e^-(retransmit limit)). Gossip the newer state again, so the straggler hears it in seconds
   * instead of at its next push-pull. Only what members say about themselves is echoed (alive,
   * left): an echoed suspicion would count as an independent confirmation, and an echoed death
   * would spread an old verdict as news (after a partition heals, each side would kill members
   * of its own side before they can refute). Only claims that came by gossip are answered.
   */
  private echoIfStale(m: UpdateMessage): void {
    const r = this.records.get(m.id);
    if (r === undefined || r === this.self) return;
    const liveness: Liveness = m.type === "alive" ? "alive" : m.type;
    if (!supersedes(r, { liveness, incarnation: m.incarnation })) return;
    switch (r.liveness) {
      case "alive":
        this.broadcastUpdate(aliveOf(r));
        return;
      case "left":
        this.broadcastUpdate({ type: "left", id: r.id, incarnation: r.incarnation });
        return;
      case "suspect":
      case "dead":
        return;
    }
  }

  // ---------------------------------------------------------------- push-pull

  private async pushPullWith(address: string, join: boolean, signal?: AbortSignal): Promise<void> {
    this.counters.pushPulls++;
    const request = this.localState(randomInt(this.random, 2 ** 32), false, join);
    try {
      const reply = await exchangeState(
        {
          transport: this.transport,
          timers: this.timers,
          waiters: this.waiters,
          timeoutMs: this.config.pushPullTimeoutMs,
          signals:
            signal === undefined
              ? [this.stopController.signal]
              : [this.stopController.signal, signal],
        },
        address,
        request,
      );
      if (this.running) this.merge(reply);
    } catch (error) {
      this.counters.pushPullFailures++;
      throw error;
    }
  }

  private localState(nonce: number, reply: boolean, join: boolean): PushPullMessage {
    const members: MemberState[] = [];
    for (const r of this.records.values()) {
      members.push({
        id: r.id,
        address: r.address,
        liveness: r.liveness,
        phase: r.phase,
        incarnation: r.incarnation,
        metadata: r.metadata,
      });
    }
    return { type: "push-pull", sourceId: this.id, nonce, reply, join, members };
  }

  /**
   * Merges a peer's full state through the same rules as gossip, except that a member the peer
   * holds dead is only suspected here: this node may have fresher news, and the member gets its
   * chance to refute (as memberlist does).
   */
  private merge(remote: PushPullMessage): void {
    for (const s of remote.members) {
      if (!this.running) return;
      switch (s.liveness) {
        case "alive":
          this.applyAlive(
            {
              type: "alive",
              id: s.id,
              address: s.address,
              incarnation: s.incarnation,
              phase: s.phase,
              metadata: s.metadata,
            },
            // A joining node's own entry is news: the seed is the first to spread it.
            remote.join && s.id === remote.sourceId,
          );
          break;
        case "suspect":
        case "dead": {
          // Not a confirmation: the peer relays a suspicion, it did not probe independently.
          const r = this.records.get(s.id);
          if (r?.liveness === "suspect" && r.incarnation === s.incarnation) break;
          this.applySuspect({
            type: "suspect",
            id: s.id,
            incarnation: s.incarnation,
            from: remote.sourceId,
          });
          break;
        }
        case "left":
          this.applyLeft({ type: "left", id: s.id, incarnation: s.incarnation });
          break;
      }
    }
  }

  // ---------------------------------------------------------------- the rules

  /** @param news it came by gossip (not push-pull): a join spreads with a higher retransmit limit. */
  private applyAlive(m: AliveMessage, news = false): void {
    if (m.id === this.id) {
      this.claimAboutSelf(m);
      return;
    }
    if (m.metadata.length > this.config.maxMetadataBytes) {
      this.logger.warn("gossip: ignoring a member whose metadata exceeds maxMetadataBytes", {
        member: m.id,
        bytes: m.metadata.length,
      });
      return;
    }
    const r = this.records.get(m.id);
    if (r === undefined) {
      const added = this.newRecord(m.id, m.address, "alive", m.phase, m.incarnation, m.metadata);
      this.records.set(m.id, added);
      this.liveCount++;
      this.probes.add(m.id);
      this.broadcastUpdate(m, news ? MEMBERSHIP_NEWS_WEIGHT : 1);
      this.events.emit({ type: "join", member: added.snapshot, previous: undefined });
      return;
    }
    if (!supersedes({ liveness: "alive", incarnation: m.incarnation }, r)) return;
    const previous = r.snapshot;
    const wasLive = isLive(r);
    this.setLiveness(r, "alive");
    r.incarnation = m.incarnation;
    r.address = m.address;
    r.phase = m.phase;
    if (!bytesEqual(r.metadata, m.metadata)) r.metadata = m.metadata;
    this.refreshSnapshot(r);
    if (!wasLive) this.probes.add(r.id);
    this.broadcastUpdate(m, news && !wasLive ? MEMBERSHIP_NEWS_WEIGHT : 1);
    const now = r.snapshot;
    if (!wasLive) {
      this.events.emit({ type: "join", member: now, previous });
    } else if (
      previous.status !== now.status ||
      previous.address !== now.address ||
      previous.metadata !== now.metadata
    ) {
      this.events.emit({ type: "update", member: now, previous });
    }
  }

  /**
   * @param verdict the suspicion stands for a death verdict about a member this node believed
   *   alive: its timeout is the minimum from the start.
   */
  private applySuspect(m: SuspectMessage, verdict = false): void {
    if (m.id === this.id) {
      this.claimAboutSelf(m);
      return;
    }
    const r = this.records.get(m.id);
    if (r === undefined) return;
    if (r.liveness === "suspect" && r.incarnation === m.incarnation) {
      // Lifeguard: an independent confirmation shortens the timeout; pass it on so others do too.
      if (r.suspicion?.confirm(m.from)) this.broadcastUpdate(m);
      return;
    }
    if (!supersedes({ liveness: "suspect", incarnation: m.incarnation }, r)) return;
    const previous = r.snapshot;
    this.setLiveness(r, "suspect");
    r.incarnation = m.incarnation;
    this.refreshSnapshot(r);
    const incarnation = m.incarnation;
    const full = suspicionBounds(this.config, this.liveCount);
    const bounds = verdict ? { ...full, maxMs: full.minMs } : full;
    r.suspicion = new Suspicion(m.from, bounds, this.clock, this.timers, () =>
      this.suspicionTimedOut(r, incarnation),
    );
    this.timers.after(bounds.minMs * SUSPICION_CHECK_START, () =>
      this.checkSuspect(r, incarnation, bounds.minMs * SUSPICION_CHECK_PERIOD),
    );
    this.counters.suspicions++;
    this.logger.debug("gossip: member suspected", { member: r.id, from: m.from, incarnation });
    this.broadcastUpdate(m);
    this.events.emit({ type: "suspect", member: r.snapshot, previous });
  }

  /**
   * Pings a member this node still suspects, carrying the suspicion, and again every `periodMs`
   * while the suspicion lasts. A live member answers a stale suspicion by re-gossiping its alive,
   * which rides on the ack. So a node that missed the refutation's epidemic (a tail event: about
   * e^-(retransmit limit) per node and update) learns it before its own timeout, and a node that
   * was paused answers every checker directly.
   */
  private checkSuspect(r: MemberRecord, incarnation: number, periodMs: number): void {
    if (this.state !== "running" || this.records.get(r.id) !== r) return;
    if (r.liveness !== "suspect" || r.incarnation !== incarnation) return;
    // The suspicion goes first: the member handles it before the ping, so the ack carries the
    // alive it re-gossips.
    this.sendWithPiggyback(r.address, [
      encodeMessage({ type: "suspect", id: r.id, incarnation, from: this.id }),
      encodeMessage({
        type: "ping",
        seq: this.acks.nextSeq(),
        targetId: r.id,
        sourceId: this.id,
        sourceAddress: this.address,
      }),
    ]);
    this.timers.after(periodMs, () => this.checkSuspect(r, incarnation, periodMs));
  }

  private suspicionTimedOut(r: MemberRecord, incarnation: number): void {
    if (this.records.get(r.id) !== r || r.liveness !== "suspect" || r.incarnation !== incarnation) {
      return;
    }
    if (this.state !== "running") return;
    this.logger.info("gossip: member declared dead", { member: r.id, incarnation });
    this.applyDead({ type: "dead", id: r.id, incarnation, from: this.id });
  }

  private applyDead(m: DeadMessage): void {
    if (m.id === this.id) {
      this.claimAboutSelf(m);
      return;
    }
    const r = this.records.get(m.id);
    if (r === undefined) return;
    if (!supersedes({ liveness: "dead", incarnation: m.incarnation }, r)) return;
    if (r.liveness === "alive") {
      // A verdict about a member this node never suspected: normally the suspicion arrives
      // seconds before the verdict, so this is a straggler, a verdict from across a partition
      // that just healed, or one about a member that was paused. Suspect it with the minimum
      // timeout instead: a live member gets that long to refute; a dead one is dead that much
      // later here. So every `dead` event follows a `suspect` event on the same node.
      this.applySuspect(
        { type: "suspect", id: m.id, incarnation: m.incarnation, from: m.from },
        true,
      );
      return;
    }
    const previous = r.snapshot;
    this.setLiveness(r, "dead");
    r.incarnation = m.incarnation;
    this.refreshSnapshot(r);
    this.broadcastUpdate(m);
    this.events.emit({ type: "dead", member: r.snapshot, previous });
  }

  private applyLeft(m: LeftMessage, news = false): void {
    if (m.id === this.id) {
      this.claimAboutSelf(m);
      return;
    }
    const r = this.records.get(m.id);
    if (r === undefined) return;
    if (!supersedes({ liveness: "left", incarnation: m.incarnation }, r)) return;
    const previous = r.snapshot;
    this.setLiveness(r, "left");
    r.incarnation = m.incarnation;
    this.refreshSnapshot(r);
    this.broadcastUpdate(m, news ? MEMBERSHIP_NEWS_WEIGHT : 1);
    this.events.emit({ type: "leave", member: r.snapshot, previous });
  }

  /**
   * A claim about this node. Anything at or above the current incarnation that differs from what
   * this node says about itself is refuted: the incarnation goes above the claim's and a fresh
   * alive is gossiped. This is also how a restarted node overtakes what the cluster remembers of
   * its previous run. Being suspected counts against local health (Lifeguard). A node that has
   * left refutes nothing.
   */
  private claimAboutSelf(m: UpdateMessage): void {
    if (this.state !== "running") return;
    const s = this.self;
    if (m.incarnation < s.incarnation) {
      // Someone still doubts an older incarnation: repeat the current alive (its queue entry
      // restarts), so the ack to a suspicion check carries it back.
      if (m.type === "suspect" || m.type === "dead") this.broadcastSelf();
      return;
    }
    if (
      m.type === "alive" &&
      m.incarnation === s.incarnation &&
      m.address === s.address &&
      m.phase === s.phase &&
      bytesEqual(m.metadata, s.metadata)
    ) {
      return;
    }
    if (m.type === "alive" && m.address !== s.address) {
      this.logger.warn(
        "gossip: another address claims this node's id (a previous run, or a duplicate id)",
        { id: this.id, address: m.address, incarnation: m.incarnation },
      );
    }
    if (m.type === "suspect" || m.type === "dead") this.awareness.applyDelta(1);
    this.counters.refutations++;
    s.incarnation = m.incarnation + 1;
    this.refreshSnapshot(s);
    this.logger.debug("gossip: refuted", {
      id: this.id,
      claim: m.type,
      incarnation: s.incarnation,
    });
    this.broadcastSelf();
  }

  private updateSelf(change: () => void): void {
    if (this.state === "left" || this.state === "stopped") {
      throw new GossipLifecycleError(`cannot change the local member in state ${this.state}`);
    }
    const previous = this.self.snapshot;
    change();
    this.self.incarnation++;
    this.refreshSnapshot(this.self);
    if (this.state === "running") this.broadcastSelf();
    this.events.emit({ type: "update", member: this.self.snapshot, previous });
  }

  // ---------------------------------------------------------------- records

  private newRecord(
    id: string,
    address: string,
    liveness: Liveness,
    phase: MemberPhase,
    incarnation: number,
    metadata: Uint8Array,
  ): MemberRecord {
    const r: MemberRecord = {
      id,
      address,
      liveness,
      phase,
      incarnation,
      metadata,
      changedAtMs: this.clock.nowMs(),
      suspicion: undefined,
      snapshot: undefined as unknown as Member,
    };
    r.snapshot = snapshotOf(r);
    return r;
  }

  private refreshSnapshot(r: MemberRecord): void {
    r.snapshot = snapshotOf(r);
  }

  private setLiveness(r: MemberRecord, liveness: Liveness): void {
    if (r.liveness === liveness) return;
    const was = isLive(r);
    r.suspicion?.cancel();
    r.suspicion = undefined;
    r.liveness = liveness;
    r.changedAtMs = this.clock.nowMs();
    const is = isLive(r);
    if (was && !is) this.liveCount--;
    if (!was && is) this.liveCount++;
  }

  /** Live members other than this node and `excludeId`; `aliveOnly` leaves out suspects. */
  private liveOthers(excludeId: string | undefined, aliveOnly: boolean): MemberRecord[] {
    const out: MemberRecord[] = [];
    for (const r of this.records.values()) {
      if (r === this.self || r.id === excludeId) continue;
      if (aliveOnly ? r.liveness === "alive" : isLive(r)) out.push(r);
    }
    return out;
  }

  /** Who gossip goes to: live members, and dead ones for gossipToTheDeadMs (so they can refute). */
  private gossipTargets(): MemberRecord[] {
    const now = this.clock.nowMs();
    const out: MemberRecord[] = [];
    for (const r of this.records.values()) {
      if (r === this.self) continue;
      if (
        isLive(r) ||
        (r.liveness === "dead" && now - r.changedAtMs <= this.config.gossipToTheDeadMs)
      ) {
        out.push(r);
      }
    }
    return out;
  }
}
