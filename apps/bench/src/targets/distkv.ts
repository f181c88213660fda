/**
 * DistKV target: N distkv-server processes on loopback, joined through the first, driven
 * through @distkv/rpc's pipelined client with connections spread over the nodes.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import {
  Consistency,
  createDistKVClient,
  createPipelinedClient,
  NodeState,
  type PipelinedCallOptions,
  type PipelinedClient,
} from "@distkv/rpc";
import { TargetStartError, TargetUnavailableError } from "../errors.js";
import { runCommand, startProcess } from "../process.js";
import type { KVConnection, RunningTarget, StartContext, TargetVersion } from "./target.js";

export type DistKVConsistency = "default" | "one" | "quorum" | "all";

export interface DistKVTargetOptions {
  /** Server processes. @default 3 */
  nodes: number;
  /** N. @default min(3, nodes) */
  replicas: number;
  /** R. @default floor(replicas / 2) + 1 */
  readQuorum: number;
  /** W. @default floor(replicas / 2) + 1 */
  writeQuorum: number;
  /** Per-request consistency; "default" sends none, so the server's R and W apply. @default "default" */
  consistency: DistKVConsistency;
  /** Pipelined client connections, spread round-robin over the nodes. @default nodes */
  connections: number;
  /** Calls in flight per connection before the client queues (set to the concurrency). */
  maxInFlight: number;
  /** Path of apps/server/dist/main.js. @default resolved from @distkv/server */
  serverMain?: string;
  /** Node options for the server processes, e.g. ["--cpu-prof", "--cpu-prof-dir=/tmp/p"]. */
  nodeOptions: readonly string[];
  /** Extra distkv-server flags. */
  serverArgs: readonly string[];
}

const CONSISTENCY: Record<DistKVConsistency, Consistency | undefined> = {
  default: undefined,
  one: Consistency.ONE,
  quorum: Consistency.QUORUM,
  all: Consistency.ALL,
};

/** apps/server/dist/main.js of this workspace. */
export function resolveServerMain(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve("@distkv/server")), "main.js");
}

/** The package.json above a package's dist/ file (exports maps hide it from require). */
function readPackageJson(distFile: string): { name: string; version: string } {
  return JSON.parse(readFileSync(join(dirname(distFile), "..", "package.json"), "utf8"));
}

/**
 * A hash of the built JavaScript that runs: apps/server/dist and the dist of every @distkv
 * package it depends on. The git commit alone does not say what was measured when the tree
 * is dirty or dist/ was built from uncommitted sources.
 */
export function buildHash(main: string): string {
  const require = createRequire(main);
  const serverPkg = JSON.parse(readFileSync(join(dirname(main), "..", "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
  };
  const dists = [dirname(main)];
  for (const dep of Object.keys(serverPkg.dependencies ?? {})) {
    if (dep.startsWith("@distkv/")) dists.push(dirname(require.resolve(dep)));
  }
  const hash = createHash("sha256");
  for (const dir of dists.sort()) {
    const files = (readdirSync(dir, { recursive: true }) as string[])
      .filter((f) => f.endsWith(".js"))
      .sort();
    for (const f of files) {
      hash.update(f);
      hash.update(readFileSync(join(dir, f)));
    }
  }
  return hash.digest("hex").slice(0, 16);
}

async function distkvVersion(main: string): Promise<TargetVersion> {
  const details: Record<string, string> = { node: process.version };
  let server = "unknown";
  try {
    const pkg = readPackageJson(main);
    server = `${pkg.name}@${pkg.version}`;
  } catch {
    // Reported as unknown.
  }
  try {
    details.buildHash = buildHash(main);
  } catch {
    details.buildHash = "unknown";
  }
  try {
    const cwd = dirname(main);
    details.gitCommit = await runCommand("git", ["rev-parse", "HEAD"], cwd);
    const dirty = await runCommand("git", ["status", "--porcelain", "--untracked-files=no"], cwd);
    details.gitDirty = dirty === "" ? "false" : "true";
  } catch {
    details.gitCommit = "unknown (not a git checkout)";
  }
  const rpcPkg = readPackageJson(createRequire(import.meta.url).resolve("@distkv/rpc"));
  return {
    server: `${server} (git ${details.gitCommit?.slice(0, 12)}${details.gitDirty === "true" ? ", dirty" : ""}, build ${details.buildHash?.slice(0, 8)})`,
    client: `@distkv/rpc@${rpcPkg.version} pipelined client`,
    details,
  };
}

export async function startDistKV(
  options: DistKVTargetOptions,
  ctx: StartContext,
): Promise<RunningTarget> {
  const main = options.serverMain ?? resolveServerMain();
  if (!existsSync(main)) {
    throw new TargetUnavailableError(
      "distkv",
      `distkv-server not built: ${main} is missing`,
      "run `pnpm build` at the repository root",
    );
  }
  const version = await distkvVersion(main);
  const addresses: string[] = [];
  const startNode = async (i: number, seed: string | undefined) => {
    const args = [
      ...options.nodeOptions,
      main,
      `-node-id=bench-n${i}`,
      "-address=127.0.0.1:0",
      `-data-dir=${join(ctx.dataDir, `n${i}`)}`,
      `-replicas=${options.replicas}`,
      `-read-quorum=${options.readQuorum}`,
      `-write-quorum=${options.writeQuorum}`,
      "-log-level=warn",
      ...(seed === undefined ? [] : [`-seed-nodes=${seed}`]),
      ...options.serverArgs,
    ];
    try {
      const { match } = await startProcess({
        name: `distkv-server n${i}`,
        command: process.execPath,
        args,
        ready: /listening on (\S+)/,
        ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
        register: (p) => ctx.cleanup.addProcess(p),
      });
      addresses[i] = match[1]!;
    } catch (e) {
      throw new TargetStartError("distkv", (e as Error).message, { cause: e });
    }
  };
  await startNode(0, undefined);
  const seed = addresses[0]!;
  await Promise.all(Array.from({ length: options.nodes - 1 }, (_, i) => startNode(i + 1, seed)));
  await waitForMembership(addresses, ctx.signal);
  ctx.log(`distkv: ${options.nodes} node(s) ready at ${addresses.join(", ")}`);

  const clients: PipelinedClient[] = Array.from({ length: options.connections }, (_, i) =>
    createPipelinedClient({
      baseUrl: addresses[i % addresses.length]!,
      maxInFlight: options.maxInFlight,
    }),
  );
  const consistency = CONSISTENCY[options.consistency];
  const callOptions: PipelinedCallOptions | undefined =
    consistency === undefined ? undefined : { consistency };
  const connections: KVConnection[] = clients.map((c) => ({
    async get(key) {
      const r = await c.get(key, callOptions);
      return r.found ? r.siblings[0]?.value : undefined;
    },
    async put(key, value) {
      await c.put(key, value, callOptions);
    },
    async readModifyWrite(key, value) {
      const r = await c.get(key, callOptions);
      await c.put(key, value, { ...callOptions, context: r.context });
      return r.found;
    },
  }));
  let stopped = false;
  return {
    name: "distkv",
    label: `distkv ${options.nodes} node${options.nodes === 1 ? "" : "s"} N=${options.replicas} R=${options.readQuorum} W=${options.writeQuorum}${options.consistency === "default" ? "" : ` ${options.consistency}`}`,
    version,
    settings: {
      nodes: options.nodes,
      replicas: options.replicas,
      readQuorum: options.readQuorum,
      writeQuorum: options.writeQuorum,
      consistency: options.consistency,
      connections: options.connections,
      syncWrites: options.serverArgs.some((a) => /sync-writes(=true)?$/.test(a)),
      nodeOptions: options.nodeOptions.join(" "),
    },
    connection: (worker) => connections[worker % connections.length]!,
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.allSettled(clients.map((c) => c.close()));
      // Server processes are stopped by the cleanup registry (SIGTERM, graceful).
    },
  };
}

/** How many members a node's status shows alive and on the ring (not joining, leaving, suspect or dead). */
export function ringMembers(status: { readonly nodes: readonly { state: NodeState }[] }): number {
  return status.nodes.filter((n) => n.state === NodeState.ALIVE).length;
}

/**
 * Waits until every node's cluster.status lists all nodes as alive members of the ring. A node
 * still `joining` already counts among the alive nodes, but is not on the ring yet: a write
 * sent then fails (a node whose ring holds only itself cannot reach W = 2 with N = 3), which is
 * how early load-phase writes failed with "the ring has only 1 of the 3 replicas".
 */
async function waitForMembership(addresses: readonly string[], signal?: AbortSignal) {
  const clients = addresses.map((a) => createDistKVClient({ baseUrl: a, defaultTimeoutMs: 2000 }));
  const until = Date.now() + 30_000;
  try {
    for (;;) {
      const statuses = await Promise.allSettled(clients.map((c) => c.cluster.status({})));
      const ready = statuses.map((s) => (s.status === "fulfilled" ? ringMembers(s.value) : -1));
      if (ready.every((n) => n === addresses.length)) return;
      if (signal?.aborted) throw signal.reason;
      if (Date.now() > until) {
        throw new TargetStartError(
          "distkv",
          `cluster not formed within 30 s: alive ring members seen per node ${ready.join(",")}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    for (const c of clients) c.close();
  }
}
