/**
 * etcd target: a cluster of `etcd` processes (Debian package etcd-server) on loopback, driven
 * through the `etcd3` npm client, which spreads calls over all members.
 */
import { createRequire } from "node:module";
import { join } from "node:path";
import { noop } from "cockatiel";
import { Etcd3 } from "etcd3";
import { TargetStartError, TargetUnavailableError } from "../errors.js";
import { findExecutable, freePort, runCommand, startProcess } from "../process.js";
import type { KVConnection, RunningTarget, StartContext } from "./target.js";

export const ETCD_DEBIAN_PACKAGE = "etcd-server";

export interface EtcdTargetOptions {
  /** Members. @default 3 */
  nodes: number;
  /** etcd3 client instances; worker i uses client i % connections. @default 1 */
  connections: number;
  /** The etcd binary. @default "etcd" on PATH */
  binary: string;
}

/** Attempts at starting the cluster: ports are chosen before the members bind them. */
const START_ATTEMPTS = 3;

export async function startEtcd(
  options: EtcdTargetOptions,
  ctx: StartContext,
): Promise<RunningTarget> {
  const bin = findExecutable(options.binary);
  if (bin === undefined) {
    throw new TargetUnavailableError(
      "etcd",
      `etcd binary "${options.binary}" not found`,
      `apt-get install ${ETCD_DEBIAN_PACKAGE}`,
    );
  }
  const versionText = await runCommand(bin, ["--version"]).catch(
    (e: Error) => `unknown (${e.message})`,
  );
  let lastError: unknown;
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    try {
      const clientUrls = await startCluster(bin, options.nodes, attempt, ctx);
      return await connect(options, clientUrls, versionText, ctx);
    } catch (e) {
      lastError = e;
      if (ctx.signal?.aborted) throw e;
      // Stop what this attempt started (ctx.cleanup holds this target's resources only)
      // before trying new ports.
      await ctx.cleanup.runAll();
      ctx.log(`etcd: start attempt ${attempt} failed: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  throw new TargetStartError(
    "etcd",
    `etcd cluster did not start: ${(lastError as Error).message}`,
    {
      cause: lastError,
    },
  );
}

async function startCluster(
  bin: string,
  nodes: number,
  attempt: number,
  ctx: StartContext,
): Promise<string[]> {
  const ports: number[] = [];
  while (ports.length < nodes * 2) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  const peerUrl = (i: number) => `http://127.0.0.1:${ports[2 * i + 1]}`;
  const clientUrl = (i: number) => `http://127.0.0.1:${ports[2 * i]}`;
  const initialCluster = Array.from({ length: nodes }, (_, i) => `m${i}=${peerUrl(i)}`).join(",");
  await Promise.all(
    Array.from({ length: nodes }, (_, i) =>
      startProcess({
        name: `etcd m${i}`,
        command: bin,
        args: [
          `--name=m${i}`,
          `--data-dir=${join(ctx.dataDir, `a${attempt}-m${i}`)}`,
          `--listen-client-urls=${clientUrl(i)}`,
          `--advertise-client-urls=${clientUrl(i)}`,
          `--listen-peer-urls=${peerUrl(i)}`,
          `--initial-advertise-peer-urls=${peerUrl(i)}`,
          `--initial-cluster=${initialCluster}`,
          `--initial-cluster-token=distkv-bench-${process.pid}-${attempt}`,
          "--initial-cluster-state=new",
          "--logger=zap",
          // info: the "ready to serve" line; etcd logs little once running.
          "--log-level=info",
        ],
        // A member prints it once it has joined a cluster with a leader.
        ready: /ready to serve client requests|serving client traffic/,
        ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
        register: (p) => ctx.cleanup.addProcess(p),
      }),
    ),
  );
  return Array.from({ length: nodes }, (_, i) => clientUrl(i));
}

async function connect(
  options: EtcdTargetOptions,
  hosts: string[],
  versionText: string,
  ctx: StartContext,
): Promise<RunningTarget> {
  // No retries or circuit breakers: a failed call must show up as an error in the results.
  const make = () => new Etcd3({ hosts, faultHandling: { global: noop, host: () => noop } });
  const probe = make();
  try {
    const until = Date.now() + 30_000;
    for (;;) {
      try {
        // A linearizable read needs a leader and a quorum on every member asked.
        await Promise.all(hosts.map((h) => probe.maintenance.status().then(() => h)));
        await probe.put("distkv-bench-ready").value("1");
        await probe.get("distkv-bench-ready").string();
        break;
      } catch (e) {
        if (ctx.signal?.aborted) throw ctx.signal.reason;
        if (Date.now() > until)
          throw new Error(`etcd not serving within 30 s: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } finally {
    probe.close();
  }
  ctx.log(`etcd: ${hosts.length} member(s) ready at ${hosts.join(", ")}`);
  const clients = Array.from({ length: options.connections }, make);
  const connections: KVConnection[] = clients.map((c) => ({
    async get(key) {
      return (await c.get(key).buffer()) ?? undefined;
    },
    async put(key, value) {
      await c.put(key).value(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    },
    async readModifyWrite(key, value) {
      const found = (await c.get(key).buffer()) !== null;
      await c.put(key).value(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
      return found;
    },
  }));
  const clientVersion = (
    createRequire(import.meta.url)("etcd3/package.json") as { version: string }
  ).version;
  const [first, ...rest] = versionText.split("\n");
  return {
    name: "etcd",
    label: `etcd ${hosts.length} node${hosts.length === 1 ? "" : "s"}`,
    version: {
      server: first ?? versionText,
      client: `etcd3@${clientVersion}`,
      details: Object.fromEntries(
        rest.map((l) => l.split(/:\s*/, 2)).filter((kv) => kv.length === 2) as [string, string][],
      ),
    },
    settings: {
      nodes: hosts.length,
      connections: options.connections,
      fsync: "etcd default (WAL fsync per batch)",
    },
    connection: (worker) => connections[worker % connections.length]!,
    async stop() {
      for (const c of clients) c.close();
    },
  };
}
