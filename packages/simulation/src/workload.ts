import type { SeededRandom } from "@distkv/gossip/testing";
import type { HistoryRecorder, OperationHandle } from "@distkv/history";
import {
  type Consistency,
  type Coordinator,
  type GetResult,
  isInvalidArgumentError,
  isNotCoordinatorError,
  isUnavailableError,
  replicasNeeded,
} from "@distkv/quorum";
import type { Codec, VersionVector } from "@distkv/vclock";
import type { SimNode } from "./node.js";
import { pick } from "./random.js";
import type { Scheduler } from "./scheduler.js";

const utf8 = new TextEncoder();
const utf8d = new TextDecoder();

/** Levels of register operations, drawn uniformly (quorum twice as often). */
const LEVELS: readonly Consistency[] = ["one", "quorum", "quorum", "all"];

/**
 * Share of operations a client sends straight to a random live replica of the key instead of
 * through a server's forwarding (to the first live replica in that server's view): writes
 * coordinated by different replicas at once become siblings, and reads are coordinated by
 * replicas that did not coordinate the writes.
 */
const DIRECT_RATE = 0.3;

/** Encodes a set of elements as a sibling value: a sorted JSON array. */
export function encodeElements(elements: Iterable<string>): Uint8Array {
  return utf8.encode(JSON.stringify([...new Set(elements)].sort()));
}

/** The union of the elements of every sibling of a read (each sibling is one encoded set). */
export function unionOfSiblings(result: Pick<GetResult, "siblings">): string[] {
  const out = new Set<string>();
  for (const s of result.siblings) {
    const parsed: unknown = JSON.parse(utf8d.decode(s.value));
    if (!Array.isArray(parsed)) throw new Error("a set value is not a JSON array");
    for (const e of parsed) out.add(String(e));
  }
  return [...out].sort();
}

/** What clients did, for the run's figures. */
export interface WorkloadCounters {
  /** Operations recorded in the history. */
  invoked: number;
  adds: number;
  reads: number;
  writes: number;
  deletes: number;
}

export interface WorkloadInit {
  readonly scheduler: Scheduler;
  readonly random: SeededRandom;
  readonly recorder: HistoryRecorder;
  readonly nodes: readonly SimNode[];
  readonly setKeys: readonly string[];
  readonly registerKeys: readonly string[];
  readonly clients: number;
  readonly operations: number;
  readonly timeoutMs: number;
  readonly thinkMs: number;
  readonly codec: Codec;
  /** N, replicas per key. */
  readonly replicas: number;
  readonly log: ((line: string) => void) | undefined;
}

/** An acknowledged register write, for the strict-quorum check. */
export interface AckedWrite {
  readonly key: string;
  readonly value: string;
  readonly dot: { readonly actor: string; readonly counter: number };
  /** Acknowledgements by the key's own replicas (hinted ones excluded). */
  readonly replicaAcks: number;
  readonly completeMs: number;
}

/** A successful register read, for the strict-quorum check. */
export interface RegisterRead {
  readonly key: string;
  readonly invokeMs: number;
  /**
   * Replicas whose replies the read reflects: the level's R (what the read promises), or more
   * if more had answered.
   */
  readonly replicasAnswered: number;
  /** What the read's causal context covers. */
  readonly context: VersionVector;
  readonly description: string;
}

/** The last successful read of a key by a client: where its next write's context comes from. */
interface LastRead {
  readonly context: Uint8Array;
  readonly values: readonly string[];
}

/**
 * The clients of a run. Each client issues one operation at a time, with a random think time
 * between them, until the run's operation budget is spent:
 *
 * - set workload (Jepsen's `set`): add a unique element to a set key by a get, a merge of the
 *   siblings (union) and a put with the get's context, each at a random level. Recorded as one
 *   `add`.
 * - register workload: reads at a random level; writes of unique values and deletes, blind or
 *   with the context of the client's last read of the key (recorded as `context`).
 *
 * A client sends each operation to the key's coordinator as a random live node's membership
 * sees it (as a server forwards it), or 30% of the time straight to a random live replica of the
 * key (a ring-aware client), and records it in the history: `ok`, `fail` when it
 * certainly did not happen (refused before anything was written), `info` otherwise.
 */
export class Workload {
  readonly counters: WorkloadCounters = { invoked: 0, adds: 0, reads: 0, writes: 0, deletes: 0 };
  /** Acknowledged register writes and deletes, with their dots. */
  readonly ackedWrites: AckedWrite[] = [];
  /** Successful register reads, with their contexts. */
  readonly registerReads: RegisterRead[] = [];
  /** Errors thrown by the workload's own code (never expected). */
  readonly errors: unknown[] = [];
  private budget: number;
  private active = 0;
  private seq = 0;

  constructor(private readonly init: WorkloadInit) {
    this.budget = init.operations;
  }

  /** True once every client has finished its last operation. */
  get done(): boolean {
    return this.budget <= 0 && this.active === 0;
  }

  /** Operations still waiting for an answer. */
  get inFlight(): number {
    return this.active;
  }

  /** Starts the clients (each after a random think time). */
  start(): void {
    for (let c = 1; c <= this.init.clients; c++) {
      const client = new Client(`c${c}`, this.init.random.fork(`client:c${c}`));
      this.next(client);
    }
  }

  private next(client: Client): void {
    if (this.budget <= 0) return;
    this.init.scheduler.schedule(
      client.random.int(this.init.thinkMs + 1),
      undefined,
      "client.op",
      () => {
        if (this.budget <= 0) return;
        const entry = this.pickEntry(client);
        if (entry === undefined) {
          this.next(client); // every node is down: try again later
          return;
        }
        this.budget--;
        this.active++;
        this.issue(client, entry)
          .catch((e: unknown) => {
            // A bug of the workload itself, or an API contract broken: the run reports it.
            this.errors.push(e);
            this.init.log?.(`workload error: ${e instanceof Error ? e.stack : String(e)}`);
          })
          .finally(() => {
            this.active--;
            this.next(client);
          });
      },
    );
  }

  /** A node that is up: the server the client's connection happens to reach. */
  private pickEntry(client: Client): SimNode | undefined {
    const up = this.init.nodes.filter((n) => n.state === "up");
    return up.length === 0 ? undefined : pick(client.random, up);
  }

  private issue(client: Client, entry: SimNode): Promise<void> {
    const { setKeys, registerKeys } = this.init;
    const useSet = setKeys.length > 0 && (registerKeys.length === 0 || client.random.chance(0.5));
    if (useSet) return this.add(client, entry, pick(client.random, setKeys));
    const key = pick(client.random, registerKeys);
    const r = client.random.next();
    if (r < 0.5) return this.read(client, entry, key);
    return this.write(client, entry, key, r >= 0.95);
  }

  /**
   * The node that coordinates `key` for a request arriving at `entry` (the first live replica
   * in entry's view), or a failure to record if there is none or it is down.
   */
  private route(
    client: Client,
    entry: SimNode,
    key: string,
  ): { node: SimNode } | { error: string } {
    const coordinator = entry.running!.coordinator;
    if (client.random.chance(DIRECT_RATE)) {
      // A ring-aware client sends the request to any replica that is up.
      const preference = coordinator.preferenceList(key);
      const up = this.init.nodes.filter((n) => n.state === "up" && preference.includes(n.id));
      if (up.length > 0) return { node: pick(client.random, up) };
    }
    const id = coordinator.coordinatorFor(key);
    if (id === undefined) return { error: `no replica of ${key} is alive per ${entry.id}` };
    const node = this.init.nodes.find((n) => n.id === id)!;
    if (node.running !== undefined) return { node };
    // The forward was refused: a server that is itself a replica coordinates the request.
    if (coordinator.isReplica(key)) return { node: entry };
    return { error: `forward to ${id} refused (down)` };
  }

  private note(h: OperationHandle, client: Client, what: string): void {
    const line = `${client.name} #${h.id} ${what}`;
    this.init.scheduler.note(line);
    this.init.log?.(`${this.init.scheduler.nowMs}ms ${line}`);
  }

  private async add(client: Client, entry: SimNode, key: string): Promise<void> {
    this.counters.adds++;
    const element = `${client.name}-${++this.seq}`;
    const route = this.route(client, entry, key);
    const h = this.invoke({
      process: client.name,
      key,
      type: "add",
      value: element,
      deadlineMs: 2 * this.init.timeoutMs,
    });
    if ("error" in route) {
      h.fail(route.error);
      this.note(h, client, `add ${key} ${element} fail: ${route.error}`);
      return;
    }
    const session = sessionOf(route.node, h);
    const coordinator = route.node.running!.coordinator;
    let read: GetResult;
    try {
      read = await coordinator.get(key, { consistency: pick(client.random, LEVELS) });
    } catch (e) {
      h.fail({ error: describeError(e), coordinator: session() }); // nothing was written
      this.note(h, client, `add ${key} ${element} fail: ${describeError(e)}`);
      return;
    }
    const elements = unionOfSiblings(read);
    elements.push(element);
    try {
      await coordinator.put(key, encodeElements(elements), {
        context: read.context,
        consistency: pick(client.random, LEVELS),
      });
      h.ok({ coordinator: session() });
      this.note(h, client, `add ${key} ${element} ok`);
    } catch (e) {
      this.failWrite(h, e, session());
      this.note(h, client, `add ${key} ${element} ${h.completed ? "" : "?"}${describeError(e)}`);
    }
  }

  private async read(client: Client, entry: SimNode, key: string): Promise<void> {
    this.counters.reads++;
    const consistency = pick(client.random, LEVELS);
    const route = this.route(client, entry, key);
    const h = this.invoke({
      process: client.name,
      key,
      type: "read",
      deadlineMs: this.init.timeoutMs,
    });
    if ("error" in route) {
      h.fail(route.error);
      this.note(h, client, `read ${key} fail: ${route.error}`);
      return;
    }
    const session = sessionOf(route.node, h);
    try {
      const result = await route.node.running!.coordinator.get(key, { consistency });
      const values = result.siblings.map((s) => utf8d.decode(s.value)).sort();
      client.lastRead.set(key, { context: result.context, values });
      const op = h.ok({ values, coordinator: session() });
      this.registerReads.push({
        key,
        invokeMs: op.invokeMs,
        replicasAnswered: Math.max(
          result.replicasAnswered,
          replicasNeeded(consistency, this.init.replicas, this.init.replicas),
        ),
        context: this.init.codec.decodeContext(result.context),
        description: `#${op.id} ${client.name} read ${key} at ${consistency} via ${route.node.id} -> [${values.join(",")}] (${result.replicasAnswered} answered, invoked at ${op.invokeMs} ms)`,
      });
      this.note(h, client, `read ${key} ${consistency} -> [${values.join(",")}]`);
    } catch (e) {
      h.fail({ error: describeError(e), coordinator: session() }); // it observed nothing
      this.note(h, client, `read ${key} ${consistency} fail: ${describeError(e)}`);
    }
  }

  private async write(
    client: Client,
    entry: SimNode,
    key: string,
    isDelete: boolean,
  ): Promise<void> {
    if (isDelete) this.counters.deletes++;
    else this.counters.writes++;
    const consistency = pick(client.random, LEVELS);
    const last = client.lastRead.get(key);
    const withContext = last !== undefined && client.random.chance(0.5);
    const value = `${client.name}-${++this.seq}`;
    const route = this.route(client, entry, key);
    const h = this.invoke({
      process: client.name,
      key,
      type: isDelete ? "delete" : "write",
      value,
      deadlineMs: this.init.timeoutMs,
      ...(withContext ? { context: last.values } : {}),
    });
    const what = `${isDelete ? "delete" : "write"} ${key} ${value} ${consistency}${withContext ? " ctx" : ""}`;
    if ("error" in route) {
      h.fail(route.error);
      this.note(h, client, `${what} fail: ${route.error}`);
      return;
    }
    const session = sessionOf(route.node, h);
    const coordinator: Coordinator = route.node.running!.coordinator;
    const options = { consistency, ...(withContext ? { context: last.context } : {}) };
    try {
      const result = isDelete
        ? await coordinator.delete(key, options)
        : await coordinator.put(key, utf8.encode(value), options);
      const op = h.ok({ coordinator: session() });
      this.ackedWrites.push({
        key,
        value,
        dot: { actor: result.version.actor, counter: result.version.counter },
        replicaAcks: result.replicasAcked - result.hintedAcks,
        completeMs: op.completeMs!,
      });
      this.note(h, client, `${what} ok`);
    } catch (e) {
      this.failWrite(h, e, session());
      this.note(h, client, `${what} ${describeError(e)}`);
    }
  }

  private invoke(input: Parameters<HistoryRecorder["invoke"]>[0]): OperationHandle {
    this.counters.invoked++;
    return this.init.recorder.invoke(input);
  }

  /**
   * A write failed: `fail` only when nothing can have been written (refused before the
   * coordinator's local write: bad input, wrong coordinator, or unavailable with no
   * acknowledgement at all), else `info` (some replica may have it).
   */
  private failWrite(h: OperationHandle, e: unknown, coordinator: string): void {
    const nothingWritten =
      isInvalidArgumentError(e) ||
      isNotCoordinatorError(e) ||
      (isUnavailableError(e) && e.answered === 0);
    const result = { error: describeError(e), coordinator };
    if (nothingWritten) h.fail(result);
    else h.info(result);
  }
}

/**
 * The session label of an operation coordinated by `node`, decided when it completes: the
 * node's id, unless the node's disk failed at some point between the operation's start and its
 * end, or had failed and the node was not restarted yet. Such an operation gets a label of its
 * own, so the session checker leaves it out: a coordinator whose own replica cannot persist is
 * not one through which DistKV promises read-your-writes or monotonic reads (its replica
 * refuses every call, and reads are answered by the others alone).
 */
function sessionOf(node: SimNode, h: OperationHandle): () => string {
  const faultsAtStart = node.diskFaultCount;
  const sickAtStart = node.needsRestart;
  return () =>
    sickAtStart || node.needsRestart || node.diskFaultCount !== faultsAtStart
      ? `${node.id} (disk fault, op ${h.id})`
      : node.id;
}

class Client {
  readonly lastRead = new Map<string, LastRead>();
  constructor(
    readonly name: string,
    readonly random: SeededRandom,
  ) {}
}

function describeError(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
