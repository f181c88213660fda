/**
 * End-to-end runs against real servers: every workload against a one-node DistKV, the whole
 * runBenchmark path (files, skipped targets, cleanup), the CLI including Ctrl-C, and etcd and
 * Redis when their Debian packages are installed. Kept to seconds: few keys, few operations.
 * All in one file so the runs are sequential (the temp-dir checks rely on that).
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CleanupRegistry } from "../src/cleanup.js";
import { type BenchOptions, resolveBenchOptions } from "../src/options.js";
import { findExecutable } from "../src/process.js";
import type { BenchReport } from "../src/report.js";
import { measureTargets, runBenchmark, startTarget } from "../src/runner.js";
import type { RunningTarget } from "../src/targets/target.js";
import { OPERATION_KINDS, WORKLOAD_NAMES, WORKLOADS } from "../src/workload.js";

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const quiet = () => {};

function benchDirs(): Set<string> {
  return new Set(readdirSync(tmpdir()).filter((d) => d.startsWith("distkv-bench-")));
}

function expectNoLeftoverDirs(before: Set<string>): void {
  const left = [...benchDirs()].filter((d) => !before.has(d));
  expect(left).toEqual([]);
}

function portRefuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(false);
    });
    s.once("error", () => resolve(true));
  });
}

const small: BenchOptions = {
  targets: ["distkv"],
  distkv: { nodes: 1 },
  keyCount: 200,
  concurrency: 16,
  operations: 400,
  rounds: 2,
  warmupOperations: 50,
  outDir: null,
  progress: false,
  log: quiet,
};

describe("every workload against a one-node DistKV", () => {
  const registry = new CleanupRegistry();
  let target: RunningTarget;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "distkv-bench-smoke-"));
    registry.addDir(dir);
    target = await startTarget("distkv", resolveBenchOptions(small), {
      dataDir: dir,
      cleanup: registry,
      log: quiet,
    });
    registry.add("client", () => target.stop());
  });
  afterAll(() => registry.runAll());

  for (const [i, name] of WORKLOAD_NAMES.entries()) {
    it(`workload ${name.toUpperCase()}: operations happen, no errors, the configured mix`, async () => {
      const options = resolveBenchOptions({ ...small, workload: name, seed: 100 + i });
      const { results, reasons } = await measureTargets([target], options);
      expect(reasons).toEqual([]);
      const r = results[0]!;
      expect(r.load).toMatchObject({ operations: 200, errors: {} });
      expect(r.operations).toBe(400);
      expect(r.errors).toEqual({});
      expect(r.latency.count).toBe(400);
      expect(r.latency.p50Ms).toBeGreaterThan(0);
      expect(r.rounds.map((x) => x.operations)).toEqual([200, 200]);
      const p = WORKLOADS[name].proportions;
      for (const kind of OPERATION_KINDS) {
        if (p[kind] === 0) expect(r.mix[kind]).toBe(0);
        else if (p[kind] === 1) expect(r.mix[kind]).toBe(400);
        else expect(r.mix[kind]).toBeGreaterThan(0);
      }
    });
  }
});

describe("a three-node DistKV target", () => {
  it("takes quorum writes as soon as it is started (every node on every ring)", async () => {
    const registry = new CleanupRegistry();
    try {
      const dir = await mkdtemp(join(tmpdir(), "distkv-bench-smoke-"));
      registry.addDir(dir);
      const target = await startTarget(
        "distkv",
        resolveBenchOptions({ ...small, distkv: { nodes: 3 } }),
        {
          dataDir: dir,
          cleanup: registry,
          log: quiet,
        },
      );
      registry.add("client", () => target.stop());
      // At once, W = 2 of N = 3 through every node: a node still joining would fail these.
      const writes = Array.from({ length: 150 }, (_, i) =>
        target.connection(i).put(`early${i}`, new Uint8Array([i & 0xff])),
      );
      const outcomes = await Promise.allSettled(writes);
      expect(outcomes.filter((o) => o.status === "rejected")).toEqual([]);
      expect(await target.connection(1).get("early7")).toEqual(new Uint8Array([7]));
    } finally {
      await registry.runAll();
    }
  });
});

describe("runBenchmark", () => {
  it("measures, writes JSON and chart, skips missing servers naming their package, cleans up", async () => {
    const before = benchDirs();
    const outDir = await mkdtemp(join(tmpdir(), "distkv-bench-out-"));
    const cleanup = new CleanupRegistry();
    const logs: string[] = [];
    try {
      const report = await runBenchmark({
        ...small,
        targets: ["distkv", "etcd", "redis"],
        workload: "b",
        operations: 300,
        rounds: 3,
        etcd: { binary: "/nonexistent/etcd" },
        redis: { binary: "/nonexistent/redis-server" },
        outDir,
        cleanup,
        log: (l) => logs.push(l),
      });
      expect(cleanup.size).toBe(0);
      expect(report.skipped).toEqual([
        {
          target: "etcd",
          reason: 'etcd binary "/nonexistent/etcd" not found',
          install: "apt-get install etcd-server",
        },
        {
          target: "redis",
          reason: 'redis-server binary "/nonexistent/redis-server" not found',
          install: "apt-get install redis-server",
        },
      ]);
      expect(logs.join("\n")).toMatch(/skipping redis: .* apt-get install redis-server/);
      expect(report.valid).toBe(false);
      expect(report.reasons).toEqual([
        'etcd was skipped: etcd binary "/nonexistent/etcd" not found',
        'redis was skipped: redis-server binary "/nonexistent/redis-server" not found',
      ]);
      const t = report.targets[0]!;
      expect(t.name).toBe("distkv");
      expect(t.operations).toBe(300);
      expect(t.errors).toEqual({});
      expect(t.rounds).toHaveLength(3);
      expect(t.version.server).toMatch(/^@distkv\/server@\d+\.\d+\.\d+/);
      expect(t.version.details.gitCommit).toBeDefined();
      expect(t.version.details.buildHash).toMatch(/^[0-9a-f]{16}$/);
      const json = JSON.parse(readFileSync(report.files!.json, "utf8")) as BenchReport;
      expect(json.targets[0]!.operations).toBe(300);
      expect(json.config).toMatchObject({
        workload: "b",
        mode: "operations",
        perRound: [100, 100, 100],
      });
      expect(readFileSync(report.files!.svg!, "utf8")).toContain("<svg");
      expectNoLeftoverDirs(new Set([...before, outDir.split("/").pop()!]));
    } finally {
      await rm(outDir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!existsSync(MAIN))("the distkv-bench command", () => {
  it("prints the table and the verdict", async () => {
    const child = spawn(
      process.execPath,
      [
        MAIN,
        "--targets=distkv",
        "--distkv-nodes=1",
        "--workload=f",
        "--keys=100",
        "--operations=300",
        "--rounds=3",
        "--concurrency=8",
        "--no-files",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    const code = await new Promise((r) => child.once("exit", r));
    expect(code).toBe(0);
    expect(stdout).toMatch(/workload F \(YCSB F/);
    expect(stdout).toMatch(/distkv 1 node N=1 R=1 W=1\s+300\s/);
    expect(stdout).toMatch(/valid: yes/);
    // Child processes on a loaded CI machine: a hang guard, not a timing assertion.
  }, 120_000);

  it.each(["SIGINT", "SIGHUP"] as const)(
    "stops its servers and removes its temp dirs on %s (Ctrl-C, closed terminal)",
    async (signal) => {
      const before = benchDirs();
      const child = spawn(
        process.execPath,
        [
          MAIN,
          "--targets=distkv",
          "--distkv-nodes=1",
          "--keys=100",
          "--duration-ms=60000",
          "--rounds=1",
          "--warmup-ms=0",
          "--no-files",
        ],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      let stderr = "";
      const loaded = new Promise<void>((resolve) =>
        child.stderr.on("data", (c: Buffer) => {
          stderr += c.toString();
          if (/loaded 100 keys/.test(stderr)) resolve();
        }),
      );
      const exited = new Promise((r) => child.once("exit", r));
      await Promise.race([loaded, exited]);
      const port = Number(/ready at 127\.0\.0\.1:(\d+)/.exec(stderr)?.[1]);
      expect(port).toBeGreaterThan(0);
      expect(await portRefuses(port)).toBe(false);
      child.kill(signal);
      expect(await exited).toBe(130);
      expect(stderr).toMatch(/everything started was stopped and removed/);
      expect(await portRefuses(port)).toBe(true);
      expectNoLeftoverDirs(before);
    },
    120_000,
  );
});

describe.skipIf(findExecutable("etcd") === undefined)("etcd (Debian etcd-server)", () => {
  it("runs a short workload A against 3 members without errors", async () => {
    const report = await runBenchmark({
      ...small,
      targets: ["etcd"],
      workload: "a",
      operations: 300,
    });
    expect(report.reasons).toEqual([]);
    expect(report.targets[0]!.operations).toBe(300);
    expect(report.targets[0]!.version.server).toMatch(/etcd Version: 3\./);
    expect(report.targets[0]!.version.client).toMatch(/^etcd3@/);
  });
});

describe.skipIf(findExecutable("redis-server") === undefined)("redis (Debian redis-server)", () => {
  it("runs a short workload F without errors", async () => {
    const report = await runBenchmark({
      ...small,
      targets: ["redis"],
      workload: "f",
      operations: 300,
    });
    expect(report.reasons).toEqual([]);
    expect(report.targets[0]!.operations).toBe(300);
    expect(report.targets[0]!.version.server).toMatch(/^redis-server \d+\.\d+/);
  });
});
