import { existsSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CleanupRegistry } from "../src/cleanup.js";
import { isBenchAbortedError } from "../src/errors.js";
import { findExecutable, freePort, type ManagedProcess, startProcess } from "../src/process.js";

const registry = new CleanupRegistry();
afterEach(() => registry.runAll());

function node(script: string, extra: Partial<Parameters<typeof startProcess>[0]> = {}) {
  return startProcess({
    name: "child",
    command: process.execPath,
    args: ["-e", script],
    ready: /ready/,
    timeoutMs: 10_000,
    register: (p) => registry.addProcess(p),
    ...extra,
  });
}

describe("startProcess", () => {
  it("resolves once the ready line appears and stops the process with SIGTERM", async () => {
    const { process: p, match } = await node(
      "console.log('ready at 1234'); setInterval(() => {}, 1000)",
      { ready: /ready at (\d+)/ },
    );
    expect(match[1]).toBe("1234");
    expect(p.isRunning()).toBe(true);
    await p.stop();
    expect(p.isRunning()).toBe(false);
    expect(p.child.signalCode).toBe("SIGTERM");
  });

  it("kills a process that ignores SIGTERM after the grace period", async () => {
    const { process: p } = await node(
      "process.on('SIGTERM', () => {}); console.error('ready'); setInterval(() => {}, 1000)",
    );
    await p.stop(200);
    expect(p.child.signalCode).toBe("SIGKILL");
  });

  it("fails with the process output when it exits before it is ready", async () => {
    await expect(node("console.error('bad config: port in use'); process.exit(3)")).rejects.toThrow(
      /child exited \(3\) before it was ready:\nbad config: port in use/,
    );
  });

  it("fails after the timeout, and the process is still cleaned up", async () => {
    let started: ManagedProcess | undefined;
    await expect(
      node("setInterval(() => {}, 1000)", {
        timeoutMs: 200,
        register: (p) => {
          started = p;
          registry.addProcess(p);
        },
      }),
    ).rejects.toThrow(/not ready within 200 ms/);
    expect(started?.isRunning()).toBe(true);
    await registry.runAll();
    expect(started?.isRunning()).toBe(false);
  });

  it("stops waiting when aborted", async () => {
    const controller = new AbortController();
    const pending = node("setInterval(() => {}, 1000)", { signal: controller.signal });
    controller.abort();
    const error = await pending.catch((e: unknown) => e);
    expect(isBenchAbortedError(error)).toBe(true);
  });
});

describe("CleanupRegistry", () => {
  it("releases newest first, goes on after a failure, and empties itself", async () => {
    const order: string[] = [];
    const errors: string[] = [];
    const r = new CleanupRegistry((m) => errors.push(m));
    const child = new CleanupRegistry();
    r.add("first", () => {
      order.push("first");
    });
    r.addChild(child);
    child.add("child", () => {
      order.push("child");
    });
    r.add("failing", () => {
      throw new Error("boom");
    });
    r.add("last", () => {
      order.push("last");
    });
    await r.runAll();
    expect(order).toEqual(["last", "child", "first"]);
    expect(errors).toEqual(["cleanup of failing failed: boom"]);
    expect(r.size).toBe(0);
    await r.runAll();
    expect(order).toHaveLength(3);
  });

  it("removes dirs, and runAllSync kills processes and removes dirs without waiting", async () => {
    const dir = await mkdtemp(join(tmpdir(), "distkv-bench-test-"));
    await writeFile(join(dir, "f"), "x");
    const r = new CleanupRegistry();
    const child = new CleanupRegistry();
    r.addDir(dir);
    r.addChild(child);
    const { process: p } = await startProcess({
      name: "sleeper",
      command: process.execPath,
      args: ["-e", "console.log('ready'); setInterval(() => {}, 1000)"],
      ready: /ready/,
      register: (x) => child.addProcess(x),
    });
    r.runAllSync();
    expect(existsSync(dir)).toBe(false);
    await p.exited;
    expect(p.child.signalCode).toBe("SIGKILL");
  });
});

describe("helpers", () => {
  it("finds executables on PATH and reports missing ones", () => {
    expect(findExecutable(process.execPath)).toBe(process.execPath);
    expect(findExecutable("definitely-not-a-binary-xyz")).toBeUndefined();
    expect(findExecutable("/nonexistent/etcd")).toBeUndefined();
  });

  it("hands out a port that can be bound", async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", resolve);
    });
    await new Promise((r) => server.close(r));
  });
});
