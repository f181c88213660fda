import { describe, expect, it } from "vitest";
import {
  BenchAbortedError,
  BenchOptionsError,
  isBenchAbortedError,
  isBenchOptionsError,
  isTargetStartError,
  isTargetUnavailableError,
  TargetStartError,
  TargetUnavailableError,
} from "../src/errors.js";
import { parseFlags } from "../src/flags.js";
import { resolveBenchOptions } from "../src/options.js";

describe("resolveBenchOptions", () => {
  it("fills in the documented defaults", () => {
    const o = resolveBenchOptions({});
    expect(o).toMatchObject({
      targets: ["distkv"],
      workload: "a",
      distribution: "zipfian",
      keyCount: 10_000,
      valueBytes: 100,
      concurrency: 64,
      rounds: 5,
      seed: 42,
      length: { kind: "duration", perRoundMs: 4000, warmupMs: 2000 },
      distkv: {
        nodes: 3,
        replicas: 3,
        readQuorum: 2,
        writeQuorum: 2,
        consistency: "default",
        connections: 3,
        maxInFlight: 64,
      },
      etcd: { nodes: 3, connections: 1, binary: "etcd" },
      redis: { connections: 1, autoPipelining: true, binary: "redis-server" },
      chart: true,
    });
    expect(Object.isFrozen(o)).toBe(true);
  });

  it("derives N, R and W from the node count", () => {
    expect(resolveBenchOptions({ distkv: { nodes: 1 } }).distkv).toMatchObject({
      replicas: 1,
      readQuorum: 1,
      writeQuorum: 1,
      connections: 1,
    });
    expect(resolveBenchOptions({ distkv: { nodes: 5, replicas: 5 } }).distkv).toMatchObject({
      readQuorum: 3,
      writeQuorum: 3,
    });
  });

  it("splits an operation count over the rounds exactly", () => {
    const o = resolveBenchOptions({ operations: 1003, rounds: 4 });
    expect(o.length).toEqual({
      kind: "operations",
      perRound: [251, 251, 251, 250],
      warmupOperations: 100,
    });
  });

  it.each([
    [{ targets: [] }, /at least one target/],
    [{ targets: ["distkv", "distkv"] as const }, /must not repeat/],
    [{ targets: ["mongo" as never] }, /unknown target "mongo"/],
    [{ workload: "e" as never }, /unknown workload "e"/],
    [{ distribution: "hotspot" as never }, /zipfian or uniform/],
    [{ keyCount: 0 }, /keyCount must be an integer/],
    [{ concurrency: 1.5 }, /concurrency must be an integer/],
    [{ durationMs: 1000, operations: 10 }, /not both/],
    [{ operations: 3, rounds: 5 }, /at least rounds/],
    [{ distkv: { nodes: 2, replicas: 3 } }, /distkv.replicas must be an integer in 1..2/],
    [{ distkv: { nodes: 3, readQuorum: 4 } }, /distkv.readQuorum/],
    [{ distkv: { consistency: "strong" as never } }, /distkv.consistency/],
    [{ warmupMs: -1 }, /warmupMs/],
    [{ seed: 0.5 }, /seed/],
  ])("refuses %j", (options, message) => {
    let error: unknown;
    try {
      resolveBenchOptions(options as never);
    } catch (e) {
      error = e;
    }
    expect(isBenchOptionsError(error)).toBe(true);
    expect((error as Error).message).toMatch(message);
  });
});

describe("errors", () => {
  it("are recognised by name, with their fields and cause", () => {
    const cause = new Error("root");
    const u = new TargetUnavailableError("redis", "not found", "apt-get install redis-server", {
      cause,
    });
    expect(isTargetUnavailableError(u)).toBe(true);
    expect(u.installHint).toBe("apt-get install redis-server");
    expect(u.cause).toBe(cause);
    expect(isTargetStartError(new TargetStartError("etcd", "x"))).toBe(true);
    expect(isBenchAbortedError(new BenchAbortedError())).toBe(true);
    expect(isBenchOptionsError(new BenchOptionsError("x"))).toBe(true);
    expect(isBenchOptionsError({ name: "BenchOptionsError" })).toBe(true);
    expect(isBenchOptionsError(new Error("x"))).toBe(false);
  });
});

describe("parseFlags", () => {
  it("maps single-dash long flags onto options", async () => {
    const f = await parseFlags([
      "-targets=distkv,etcd",
      "-workload=C",
      "-distribution=uniform",
      "-keys=500",
      "-value-bytes=200",
      "-concurrency=16",
      "-operations=1000",
      "-rounds=2",
      "-distkv-nodes=1",
      "-distkv-consistency=one",
      "-distkv-node-options=--cpu-prof --cpu-prof-dir=/tmp/p",
      "-etcd-bin=/opt/etcd",
      "--no-redis-auto-pipelining",
      "--no-files",
      "-strict",
    ]);
    expect(f.strict).toBe(true);
    expect(f.suite).toBeUndefined();
    expect(f.options).toMatchObject({
      targets: ["distkv", "etcd"],
      workload: "c",
      distribution: "uniform",
      keyCount: 500,
      valueBytes: 200,
      concurrency: 16,
      operations: 1000,
      rounds: 2,
      outDir: null,
      distkv: {
        nodes: 1,
        consistency: "one",
        nodeOptions: ["--cpu-prof", "--cpu-prof-dir=/tmp/p"],
      },
      etcd: { binary: "/opt/etcd" },
      redis: { autoPipelining: false },
    });
    expect(f.options.durationMs).toBeUndefined();
  });

  it("accepts the peers suite and refuses unknown flags and values", async () => {
    expect((await parseFlags(["--suite", "peers"])).suite).toBe("peers");
    await expect(parseFlags(["--nope"])).rejects.toThrow(/Unknown argument/);
    await expect(parseFlags(["--targets=distkv,mongo"])).rejects.toThrow(/unknown target "mongo"/);
    await expect(parseFlags(["--workload=z"])).rejects.toThrow(/unknown workload/);
  });
});
