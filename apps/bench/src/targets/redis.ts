/**
 * Redis target: one `redis-server` (Debian package redis-server) on loopback with the AOF on
 * and fsynced every second, driven through ioredis.
 */
import { createRequire } from "node:module";
import { Redis } from "ioredis";
import { TargetStartError, TargetUnavailableError } from "../errors.js";
import { findExecutable, freePort, runCommand, startProcess } from "../process.js";
import type { KVConnection, RunningTarget, StartContext } from "./target.js";

export const REDIS_DEBIAN_PACKAGE = "redis-server";

export interface RedisTargetOptions {
  /** ioredis connections; worker i uses connection i % connections. @default 1 */
  connections: number;
  /**
   * ioredis `enableAutoPipelining`: commands issued in one event-loop turn leave in one write,
   * as the DistKV pipelined client coalesces its frames. @default true
   */
  autoPipelining: boolean;
  /** The redis-server binary. @default "redis-server" on PATH */
  binary: string;
}

const START_ATTEMPTS = 3;

export async function startRedis(
  options: RedisTargetOptions,
  ctx: StartContext,
): Promise<RunningTarget> {
  const bin = findExecutable(options.binary);
  if (bin === undefined) {
    throw new TargetUnavailableError(
      "redis",
      `redis-server binary "${options.binary}" not found`,
      `apt-get install ${REDIS_DEBIAN_PACKAGE}`,
    );
  }
  const versionText = await runCommand(bin, ["--version"]).catch(
    (e: Error) => `unknown (${e.message})`,
  );
  let port = 0;
  let lastError: unknown;
  for (let attempt = 1; attempt <= START_ATTEMPTS && port === 0; attempt++) {
    const candidate = await freePort();
    try {
      await startProcess({
        name: "redis-server",
        command: bin,
        args: [
          "--port",
          String(candidate),
          "--bind",
          "127.0.0.1",
          "--dir",
          ctx.dataDir,
          "--appendonly",
          "yes",
          "--appendfsync",
          "everysec",
          "--save",
          "",
          "--daemonize",
          "no",
          "--protected-mode",
          "no",
        ],
        ready: /Ready to accept connections/,
        ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
        register: (p) => ctx.cleanup.addProcess(p),
      });
      port = candidate;
    } catch (e) {
      lastError = e;
      if (ctx.signal?.aborted) throw e;
    }
  }
  if (port === 0) {
    throw new TargetStartError(
      "redis",
      `redis-server did not start: ${(lastError as Error).message}`,
      {
        cause: lastError,
      },
    );
  }
  ctx.log(`redis: ready at 127.0.0.1:${port}`);
  const clients = Array.from(
    { length: options.connections },
    () =>
      new Redis({
        host: "127.0.0.1",
        port,
        enableAutoPipelining: options.autoPipelining,
        // Fail instead of retrying, so problems show up as errors in the results.
        maxRetriesPerRequest: 0,
        lazyConnect: true,
      }),
  );
  await Promise.all(clients.map((c) => c.connect()));
  const connections: KVConnection[] = clients.map((c) => ({
    async get(key) {
      return (await c.getBuffer(key)) ?? undefined;
    },
    async put(key, value) {
      await c.set(key, Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    },
    async readModifyWrite(key, value) {
      const found = (await c.getBuffer(key)) !== null;
      await c.set(key, Buffer.from(value.buffer, value.byteOffset, value.byteLength));
      return found;
    },
  }));
  const clientVersion = (
    createRequire(import.meta.url)("ioredis/package.json") as { version: string }
  ).version;
  return {
    name: "redis",
    label: "redis 1 node",
    version: {
      server: `redis-server ${/v=(\S+)/.exec(versionText)?.[1] ?? versionText}`,
      client: `ioredis@${clientVersion}`,
      details: { versionOutput: versionText },
    },
    settings: {
      nodes: 1,
      appendonly: "yes",
      appendfsync: "everysec",
      connections: options.connections,
      autoPipelining: options.autoPipelining,
    },
    connection: (worker) => connections[worker % connections.length]!,
    async stop() {
      await Promise.allSettled(clients.map((c) => c.quit()));
      for (const c of clients) c.disconnect();
    },
  };
}
