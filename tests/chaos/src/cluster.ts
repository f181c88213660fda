import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createClient } from "@connectrpc/connect";
import {
  createDistKVClient,
  type DistKVClient,
  FaultService,
  NodeState,
  type StatusResponse,
} from "@distkv/rpc";

/** The compiled server entry point, found through the workspace dependency on @distkv/server. */
export function serverMainPath(): string {
  const index = createRequire(import.meta.url).resolve("@distkv/server");
  return join(dirname(index), "main.js");
}

/** Where a node's process is. `paused`: SIGSTOPped; `killed`: not running (SIGKILL or stopped). */
export type NodeRunState = "running" | "paused" | "killed";

/** One server process of the cluster (the same id across restarts). */
export interface ChaosNode {
  readonly id: string;
  /** `127.0.0.1:port`, fixed at the first start and reused by restarts. */
  address: string;
  readonly dataDir: string;
  /** The clock offset the current process runs with (`-test-clock-offset-ms`). */
  clockOffsetMs: number;
  state: NodeRunState;
  /** Processes started for this node so far. */
  starts: number;
  proc: ChildProcess | undefined;
  exit: Promise<void>;
  /** The last lines the process wrote (stdout and stderr), for failure reports. */
  readonly logTail: string[];
}

export interface ChaosClusterOptions {
  /** Node ids, started in this order; the first is every other node's seed. */
  readonly ids: readonly string[];
  readonly conflictPolicy: "siblings" | "lww";
  /** Clock offset per node id (absent: 0). */
  readonly clockOffsetsMs?: ReadonlyMap<string, number>;
  /** `-log-level` of the servers. @default "warn" */
  readonly logLevel?: string;
  /** Lines of output kept per node. @default 200 */
  readonly logTailLines?: number;
  /** Local deadline of the harness's own admin calls (status, faults). @default 5000 */
  readonly adminTimeoutMs?: number;
  /** More server flags, e.g. `-replicas=1`. */
  readonly extraArgs?: readonly string[];
}

/** A link fault as FaultService takes it. */
export interface LinkFaultSpec {
  readonly nodeId: string;
  readonly dropProbability: number;
  readonly delayMs?: number;
}

/**
 * Every child process and temp dir of the clusters still open. If the test process exits
 * without `close()` (a hook timeout, an uncaught error, process.exit), the exit hook kills the
 * processes and removes the dirs, synchronously.
 */
const liveProcesses = new Set<ChildProcess>();
const liveRoots = new Set<string>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const p of liveProcesses) p.kill("SIGKILL");
    for (const root of liveRoots) rmSync(root, { recursive: true, force: true });
  });
}
function trackProcess(proc: ChildProcess): void {
  installExitHook();
  liveProcesses.add(proc);
  proc.once("exit", () => liveProcesses.delete(proc));
}

/**
 * Real distkv-server processes on 127.0.0.1 with ephemeral ports and data dirs under one temp
 * dir, all started with `-enable-fault-injection`. The chaos suite's own harness: it starts,
 * kills, restarts, pauses and resumes nodes, sets link faults and reads status. `close()` kills
 * every process it started and removes the temp dir; call it in a `finally`/`afterAll`.
 */
export class ChaosCluster {
  readonly nodes = new Map<string, ChaosNode>();
  private readonly clients = new Map<string, DistKVClient>();
  private readonly main = serverMainPath();
  private closed = false;

  private constructor(
    readonly options: ChaosClusterOptions,
    readonly root: string,
  ) {}

  /** Starts every node (the first without seeds, the others seeded by it). */
  static async start(options: ChaosClusterOptions): Promise<ChaosCluster> {
    if (options.ids.length === 0) throw new RangeError("a cluster needs at least one node id");
    if (new Set(options.ids).size !== options.ids.length) {
      throw new RangeError(`node ids must be unique, got ${options.ids.join(",")}`);
    }
    const root = await mkdtemp(join(tmpdir(), "distkv-chaos-"));
    installExitHook();
    liveRoots.add(root);
    const cluster = new ChaosCluster(options, root);
    try {
      for (const id of options.ids) {
        cluster.nodes.set(id, {
          id,
          address: "127.0.0.1:0",
          dataDir: join(root, id),
          clockOffsetMs: options.clockOffsetsMs?.get(id) ?? 0,
          state: "killed",
          starts: 0,
          proc: undefined,
          exit: Promise.resolve(),
          logTail: [],
        });
      }
      // The first node is every other node's seed; the others start side by side.
      const [first, ...rest] = [...cluster.nodes.values()];
      await cluster.spawn(first!);
      await Promise.all(rest.map((n) => cluster.spawn(n)));
    } catch (e) {
      await cluster.close();
      throw e;
    }
    return cluster;
  }

  get ids(): readonly string[] {
    return [...this.nodes.keys()];
  }

  node(id: string): ChaosNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new RangeError(`unknown node ${id}`);
    return node;
  }

  /** Ids of the nodes in a given state. */
  inState(state: NodeRunState): string[] {
    return this.ids.filter((id) => this.node(id).state === state);
  }

  /**
   * The client for a node (one HTTP/2 session, replaced when the node restarts). Its calls fail
   * while the node is down and hang while it is paused, as a real client's would.
   */
  client(id: string): DistKVClient {
    let c = this.clients.get(id);
    if (c === undefined) {
      c = createDistKVClient({
        baseUrl: this.node(id).address,
        defaultTimeoutMs: this.options.adminTimeoutMs ?? 5000,
      });
      this.clients.set(id, c);
    }
    return c;
  }

  async status(id: string): Promise<StatusResponse> {
    return this.client(id).cluster.status({}, { timeoutMs: this.options.adminTimeoutMs ?? 5000 });
  }

  /**
   * SIGKILL; resolves once the process is gone. The node counts as `killed` from the signal on,
   * so clients stop choosing it at once.
   */
  async kill(id: string): Promise<void> {
    const node = this.node(id);
    if (node.proc === undefined || node.proc.exitCode !== null || node.proc.signalCode !== null) {
      return;
    }
    node.state = "killed";
    node.proc.kill("SIGKILL");
    await node.exit;
  }

  /** SIGTERM (the server's graceful stop); resolves once the process is gone. */
  async stop(id: string): Promise<void> {
    const node = this.node(id);
    if (node.proc === undefined || node.proc.exitCode !== null || node.proc.signalCode !== null) {
      return;
    }
    if (node.state === "paused") node.proc.kill("SIGCONT");
    node.state = "killed";
    node.proc.kill("SIGTERM");
    await node.exit;
  }

  /** Starts a node that is not running again, on its port and data dir, optionally re-skewed. */
  async restart(id: string, options: { clockOffsetMs?: number } = {}): Promise<void> {
    const node = this.node(id);
    if (node.state !== "killed") throw new Error(`node ${id} is ${node.state}, not stopped`);
    await node.exit;
    if (options.clockOffsetMs !== undefined) node.clockOffsetMs = options.clockOffsetMs;
    this.dropClient(id);
    // The port was free a moment ago; retry briefly if another socket grabbed it meanwhile.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.spawn(node);
        return;
      } catch (e) {
        if (attempt >= 5 || !String(e).includes("EADDRINUSE")) throw e;
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
  }

  /** SIGSTOP: the process stays, frozen (its sockets stay open, nobody gets an answer). */
  pause(id: string): void {
    const node = this.node(id);
    if (node.state !== "running") throw new Error(`node ${id} is ${node.state}, not running`);
    node.proc!.kill("SIGSTOP");
    node.state = "paused";
  }

  /** SIGCONT after `pause`. */
  resume(id: string): void {
    const node = this.node(id);
    if (node.state !== "paused") return;
    node.proc!.kill("SIGCONT");
    node.state = "running";
  }

  /** Replaces the node's link faults (its outgoing peer calls); `[]` heals its links. */
  async setLinkFaults(
    id: string,
    faults: readonly LinkFaultSpec[],
  ): Promise<{ droppedTotal: number; delayedTotal: number }> {
    const svc = createClient(FaultService, this.client(id).transport);
    const r = await svc.setLinkFaults(
      {
        faults: faults.map((f) => ({
          nodeId: f.nodeId,
          dropProbability: f.dropProbability,
          delayMs: f.delayMs ?? 0,
        })),
      },
      { timeoutMs: this.options.adminTimeoutMs ?? 5000 },
    );
    return { droppedTotal: Number(r.droppedTotal), delayedTotal: Number(r.delayedTotal) };
  }

  /**
   * Resolves once every running node sees every node of the cluster alive (gossip agreed), or
   * throws after `timeoutMs` naming who sees whom how.
   */
  async waitAllAlive(timeoutMs: number): Promise<void> {
    const until = performance.now() + timeoutMs;
    let last = "";
    for (;;) {
      const views: string[] = [];
      let ok = true;
      for (const id of this.ids) {
        try {
          const s = await this.status(id);
          const notAlive = this.ids.filter(
            (other) => s.nodes.find((n) => n.id === other)?.state !== NodeState.ALIVE,
          );
          if (notAlive.length > 0) {
            ok = false;
            views.push(`${id} does not see ${notAlive.join(",")} alive`);
          }
        } catch (e) {
          ok = false;
          views.push(`${id}: ${(e as Error).message}`);
        }
      }
      if (ok) return;
      last = views.join("; ");
      if (performance.now() > until) {
        throw new Error(`the cluster did not agree within ${timeoutMs} ms: ${last}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** The log tails of every node, for a failure report. */
  logs(lines = 40): string {
    return this.ids
      .map((id) => {
        const n = this.node(id);
        return `--- ${id} (${n.state}, ${n.starts} starts, offset ${n.clockOffsetMs} ms)\n${n.logTail.slice(-lines).join("\n")}`;
      })
      .join("\n");
  }

  /** Kills every process, closes every client and removes the temp dir. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const id of [...this.clients.keys()]) this.dropClient(id);
    await Promise.all(
      [...this.nodes.values()].map(async (n) => {
        if (n.proc !== undefined && n.proc.exitCode === null && n.proc.signalCode === null) {
          n.proc.kill("SIGKILL");
        }
        await n.exit;
      }),
    );
    await rm(this.root, { recursive: true, force: true });
    liveRoots.delete(this.root);
  }

  private dropClient(id: string): void {
    const c = this.clients.get(id);
    if (c === undefined) return;
    this.clients.delete(id);
    c.close();
  }

  private seedsFor(node: ChaosNode): string[] {
    return [...this.nodes.values()]
      .filter((n) => n !== node && n.starts > 0 && n.state !== "killed")
      .map((n) => n.address);
  }

  private async spawn(node: ChaosNode): Promise<void> {
    if (this.closed) throw new Error("the cluster is closed");
    const seeds = this.seedsFor(node);
    const args = [
      this.main,
      `-node-id=${node.id}`,
      `-address=${node.address}`,
      `-data-dir=${node.dataDir}`,
      ...(seeds.length > 0 ? [`-seed-nodes=${seeds.join(",")}`] : []),
      "-enable-fault-injection",
      `-conflict-policy=${this.options.conflictPolicy}`,
      `-test-clock-offset-ms=${node.clockOffsetMs}`,
      `-log-level=${this.options.logLevel ?? "warn"}`,
      ...(this.options.extraArgs ?? []),
    ];
    const proc = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    trackProcess(proc);
    node.proc = proc;
    const keep = this.options.logTailLines ?? 200;
    const append = (chunk: Buffer) => {
      for (const line of chunk.toString().split("\n")) {
        if (line === "") continue;
        node.logTail.push(line);
        if (node.logTail.length > keep) node.logTail.shift();
      }
    };
    proc.stderr!.on("data", append);
    node.exit = new Promise((resolve) => {
      proc.once("exit", () => {
        if (node.proc === proc) node.state = "killed";
        resolve();
      });
    });
    const address = await new Promise<string>((resolve, reject) => {
      let out = "";
      proc.stdout!.on("data", (chunk: Buffer) => {
        append(chunk);
        out += chunk.toString();
        const m = /listening on (\S+)/.exec(out);
        if (m !== null) resolve(m[1]!);
      });
      proc.once("exit", (code, signal) =>
        reject(
          new Error(
            `node ${node.id} exited (${code ?? signal}) before listening:\n${node.logTail.slice(-20).join("\n")}`,
          ),
        ),
      );
    });
    node.address = address;
    node.state = "running";
    node.starts++;
  }
}
