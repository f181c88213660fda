/**
 * `repair`, `cleanup`, `decommission` and `removenode` through runCli (in-process) with the real client, against the
 * fake cluster of test/support/cluster-fake-server.ts: several Connect servers on loopback
 * playing a scripted cluster. The clock and the waits between polls are fake, so a
 * decommission that "takes" minutes runs in milliseconds.
 */
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { ExitCode } from "../src/errors.js";
import { type ClientFactory, defaultClientFactory } from "../src/io.js";
import { runCli } from "../src/run.js";
import { capture } from "./support/capture.js";
import {
  type CleanupInit,
  type FakeCluster,
  type FakeClusterOptions,
  type RepairInit,
  startFakeCluster,
} from "./support/cluster-fake-server.js";
import { closedPort } from "./support/kv-test-server.js";

const NOW = 1_700_000_000_000;

let cluster: FakeCluster | undefined;
let created = 0;
let closed = 0;

const countingFactory: ClientFactory = (o) => {
  const client = defaultClientFactory(o);
  created++;
  return {
    kv: client.kv,
    cluster: client.cluster,
    close: () => {
      closed++;
      client.close();
    },
  };
};

afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
  expect(closed).toBe(created);
});

async function start(options: FakeClusterOptions = {}): Promise<FakeCluster> {
  cluster = await startFakeCluster(options);
  return cluster;
}

async function cli(server: string, args: string[]) {
  const stdout = capture();
  const stderr = capture();
  let clock = NOW;
  const code = await runCli(["--server", server, ...args], {
    stdout,
    stderr,
    createClient: countingFactory,
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
      await new Promise((r) => setImmediate(r));
    },
    version: "0.0.0-test",
  });
  return { code, out: stdout.text(), err: stderr.text(), elapsedMs: clock - NOW };
}

/** Runs each command line against `server`; each must end exactly so, without waiting. */
async function expectEach(
  server: string,
  commandLines: string[][],
  expected: { code: ExitCode; out: string; err: string },
) {
  for (const args of commandLines) {
    expect(await cli(server, args), args.join(" ")).toEqual({ ...expected, elapsedMs: 0 });
  }
}

describe("repair", () => {
  it("shows progress on stderr and the round's result on stdout", async () => {
    const c = await start();
    const r = await cli(c.nodes[0]!.address, ["repair"]);
    expect(r.code).toBe(ExitCode.Ok);
    expect(r.err).toBe(
      "repairing node-1: 0/2 ranges, 0 replicas compared, 0 keys repaired, 0 B exchanged\n" +
        "repairing node-1: 1/2 ranges, 2 replicas compared, 3 keys repaired, 2.0 KiB exchanged\n" +
        "repairing node-1: 2/2 ranges, 4 replicas compared, 5 keys repaired, 4.0 KiB exchanged\n",
    );
    expect(r.out).toBe(
      [
        "Repair of node-1 done in 1.3s",
        "  Ranges compared:     2 of 2",
        "  Replicas compared:   4",
        "  Comparisons failed:  0",
        "  Keys differing:      6",
        "  Keys repaired:       5",
        "  Bytes exchanged:     4.0 KiB (900 B comparing trees)",
        "  Tombstones purged:   1",
        "",
      ].join("\n"),
    );
    expect(c.calls).toEqual([{ node: "node-1", method: "repair", nodeId: "" }]);
  });

  it("--node names the node whose replicas to repair", async () => {
    const c = await start();
    const r = await cli(c.nodes[0]!.address, ["repair", "--node", "node-2"]);
    expect(r.code).toBe(ExitCode.Ok);
    expect(r.out).toMatch(/^Repair of node-2 done/);
    expect(c.calls).toEqual([{ node: "node-1", method: "repair", nodeId: "node-2" }]);
    // One dash works too.
    expect((await cli(c.nodes[0]!.address, ["repair", "-node=node-3"])).out).toMatch(
      /^Repair of node-3 done/,
    );
  });

  it("--json prints the final RepairResponse and no progress", async () => {
    const c = await start();
    const r = await cli(c.nodes[0]!.address, ["--json", "repair"]);
    expect(r.code).toBe(ExitCode.Ok);
    expect(r.err).toBe("");
    expect(JSON.parse(r.out)).toEqual({
      nodeId: "node-1",
      rangesTotal: 2,
      rangesCompared: 2,
      peersCompared: 4,
      peersFailed: 0,
      keysDiffering: "6",
      keysRepaired: "5",
      bytesExchanged: "4096",
      treeBytes: "900",
      tombstonesPurged: "1",
      elapsedSeconds: 1.25,
      done: true,
      failures: [],
    });
  });

  it("a failed comparison is listed and exits 5", async () => {
    const c = await start();
    c.repairScript = async function* (): AsyncGenerator<RepairInit> {
      yield {
        nodeId: "node-1",
        rangesTotal: 3,
        rangesCompared: 3,
        peersCompared: 4,
        peersFailed: 2,
        failures: ["node-3 (2 ranges): down"],
        done: true,
      };
    };
    const r = await cli(c.nodes[0]!.address, ["repair"]);
    expect(r.code).toBe(ExitCode.PartialFailure);
    expect(r.out).toMatch(/^Repair of node-1 finished with failures in 0\.0s\n/);
    expect(r.out).toContain("  Comparisons failed:  2\n");
    expect(r.out).toMatch(/\n\nFailed comparisons:\n {2}node-3 \(2 ranges\): down\n$/);
  });

  it("a stream that ends before the round finished is a failure (exit 3)", async () => {
    const c = await start();
    c.repairScript = async function* (): AsyncGenerator<RepairInit> {
      yield { nodeId: "node-1", rangesTotal: 3 };
    };
    const r = await cli(c.nodes[0]!.address, ["repair"]);
    expect(r.code).toBe(ExitCode.Unavailable);
    expect(r.err).toMatch(/ended the repair stream before the round finished\n$/);
  });

  it("the server's refusal is reported in one line (exit 4)", async () => {
    const c = await start();
    const refusal = new ConnectError(
      'node "node-9" is not a live member of the cluster',
      Code.FailedPrecondition,
    );
    c.repairScript = async function* (): AsyncGenerator<RepairInit> {
      // The server refuses before its first message.
      if (refusal !== undefined) throw refusal;
      yield {};
    };
    const r = await cli(c.nodes[0]!.address, ["repair", "--node", "node-9"]);
    expect(r).toMatchObject({
      code: ExitCode.Rejected,
      out: "",
      err: 'distkv-client: request refused: node "node-9" is not a live member of the cluster\n',
    });
  });

  it("usage errors", async () => {
    for (const [args, message] of [
      [["repair", "--node", ""], "--node must name a node id"],
      [["repair", "extra"], 'unexpected argument "extra"'],
    ] as const) {
      const r = await cli("localhost:1", [...args]);
      expect(r.code).toBe(ExitCode.Usage);
      expect(r.err).toBe(
        `distkv-client: ${message}\nRun 'distkv-client repair --help' for usage.\n`,
      );
    }
  });
});

describe("cleanup", () => {
  it("shows progress on stderr and the result on stdout", async () => {
    const c = await start();
    const r = await cli(c.nodes[0]!.address, ["cleanup"]);
    expect(r.code).toBe(ExitCode.Ok);
    expect(r.err).toBe(
      "cleaning up node-1: 2048 keys scanned, 500 removed (60.0 KiB)\n" +
        "cleaning up node-1: 4096 keys scanned, 1012 removed (120.0 KiB)\n",
    );
    expect(r.out).toBe(
      [
        "Cleanup of node-1 done in 1.3s",
        "  Keys scanned:   4100",
        "  Keys removed:   1013",
        "  Bytes removed:  120.1 KiB",
        "",
      ].join("\n"),
    );
    expect(c.calls).toEqual([{ node: "node-1", method: "cleanup", nodeId: "" }]);
  });

  it("--node names the node to clean up", async () => {
    const c = await start();
    const r = await cli(c.nodes[0]!.address, ["cleanup", "--node", "node-2"]);
    expect(r.code).toBe(ExitCode.Ok);
    expect(r.err).toMatch(/^cleaning up node-2: /);
    expect(r.out).toMatch(/^Cleanup of node-2 done/);
    expect(c.calls).toEqual([{ node: "node-1", method: "cleanup", nodeId: "node-2" }]);
    // One dash works too.
    expect((await cli(c.nodes[0]!.address, ["cleanup", "-node=node-3"])).out).toMatch(
      /^Cleanup of node-3 done/,
    );
  });

  it("--json prints the final CleanupResponse and no progress", async () => {
    const c = await start();
    const r = await cli(c.nodes[0]!.address, ["--json", "cleanup"]);
    expect(r.code).toBe(ExitCode.Ok);
    expect(r.err).toBe("");
    expect(JSON.parse(r.out)).toEqual({
      nodeId: "node-1",
      keysScanned: "4100",
      keysRemoved: "1013",
      bytesRemoved: "123000",
      elapsedSeconds: 1.25,
      done: true,
    });
    expect(r.out.endsWith("}\n")).toBe(true);
    expect(r.out.split("\n")).toHaveLength(2);
  });

  it("a node with nothing to remove: zeros are printed, in JSON too", async () => {
    const c = await start();
    c.cleanupScript = async function* (): AsyncGenerator<CleanupInit> {
      yield { nodeId: "node-1", keysScanned: 7n, done: true };
    };
    const r = await cli(c.nodes[0]!.address, ["cleanup"]);
    expect(r).toMatchObject({ code: ExitCode.Ok, err: "" });
    expect(r.out).toBe(
      "Cleanup of node-1 done in 0.0s\n  Keys scanned:   7\n  Keys removed:   0\n  Bytes removed:  0 B\n",
    );
    const json = await cli(c.nodes[0]!.address, ["cleanup", "--json"]);
    expect(JSON.parse(json.out)).toEqual({
      nodeId: "node-1",
      keysScanned: "7",
      keysRemoved: "0",
      bytesRemoved: "0",
      elapsedSeconds: 0,
      done: true,
    });
  });

  it("the server's refusal (FAILED_PRECONDITION) is reported with its reason (exit 4)", async () => {
    const c = await start();
    const refusal = new ConnectError(
      "cleanup refused on node-1: the ring changed 3.2 s ago; retry once it has been stable for 10 s",
      Code.FailedPrecondition,
    );
    c.cleanupScript = async function* (): AsyncGenerator<CleanupInit> {
      // The server refuses before its first message.
      if (refusal !== undefined) throw refusal;
      yield {};
    };
    await expectEach(c.nodes[0]!.address, [["cleanup"], ["cleanup", "--json"]], {
      code: ExitCode.Rejected,
      out: "",
      err: "distkv-client: request refused: cleanup refused on node-1: the ring changed 3.2 s ago; retry once it has been stable for 10 s\n",
    });
  });

  it("a refusal after some progress keeps the progress lines, then the reason (exit 4)", async () => {
    const c = await start();
    c.cleanupScript = async function* (): AsyncGenerator<CleanupInit> {
      yield { nodeId: "node-1", keysScanned: 100n, keysRemoved: 10n, bytesRemoved: 2048n };
      throw new ConnectError(
        "cleanup refused on node-1: the ring changed during the cleanup (10 keys deleted so far); run it again once it is stable",
        Code.FailedPrecondition,
      );
    };
    const r = await cli(c.nodes[0]!.address, ["cleanup"]);
    expect(r.code).toBe(ExitCode.Rejected);
    expect(r.out).toBe("");
    expect(r.err).toBe(
      "cleaning up node-1: 100 keys scanned, 10 removed (2.0 KiB)\n" +
        "distkv-client: request refused: cleanup refused on node-1: the ring changed during the cleanup (10 keys deleted so far); run it again once it is stable\n",
    );
  });

  it("an unknown node is refused by the server (exit 4)", async () => {
    const c = await start();
    const r = await cli(c.nodes[0]!.address, ["cleanup", "--node", "node-9"]);
    expect(r).toMatchObject({
      code: ExitCode.Rejected,
      out: "",
      err: 'distkv-client: not_found: unknown node "node-9"\n',
    });
    expect(c.calls).toEqual([{ node: "node-1", method: "cleanup", nodeId: "node-9" }]);
  });

  it("a stream that ends before the cleanup finished is a failure (exit 3)", async () => {
    const c = await start();
    const scripts: Array<() => AsyncGenerator<CleanupInit>> = [
      async function* () {
        yield { nodeId: "node-1", keysScanned: 100n, keysRemoved: 3n, bytesRemoved: 300n };
      },
      // Nothing at all.
      async function* () {
        yield* [];
      },
    ];
    const expectedErr = ["cleaning up node-1: 100 keys scanned, 3 removed (300 B)\n", ""];
    for (const [i, script] of scripts.entries()) {
      c.cleanupScript = script;
      for (const json of [false, true]) {
        const r = await cli(c.nodes[0]!.address, json ? ["cleanup", "--json"] : ["cleanup"]);
        expect(r.code).toBe(ExitCode.Unavailable);
        expect(r.out).toBe("");
        expect(r.err).toBe(
          `${json ? "" : expectedErr[i]}distkv-client: DistKV at http://${c.nodes[0]!.address} ended the cleanup stream before the cleanup finished\n`,
        );
      }
    }
  });

  it("usage errors", async () => {
    for (const [args, message] of [
      [["cleanup", "--node", ""], "--node must name a node id"],
      [["cleanup", "--node"], "--node must name a node id"],
      [["cleanup", "extra"], 'unexpected argument "extra"'],
      [["cleanup", "--bogus"], "unexpected option --bogus"],
    ] as const) {
      const r = await cli("localhost:1", [...args]);
      expect(r.code).toBe(ExitCode.Usage);
      expect(r.out).toBe("");
      expect(r.err).toBe(
        `distkv-client: ${message}\nRun 'distkv-client cleanup --help' for usage.\n`,
      );
    }
  });
});

describe("decommission", () => {
  it("asks, follows the hand-over on the leaving node, then waits until the others see it left", async () => {
    const c = await start({ handoverPolls: 3, gossipPolls: 2 });
    const n1 = c.nodes[0];
    const r = await cli(n1!.address, ["decommission", "node-3"]);
    expect(r.code).toBe(ExitCode.Ok);
    const err = r.err.split("\n");
    expect(err[0]).toBe(`node-3 is leaving the cluster (asked http://${n1!.address})`);
    expect(err).toContain(
      "handing over: 1/3 targets done, 40 keys moved (4.0 KiB), 100 scanned, 1s",
    );
    expect(err).toContain(
      "handing over: 3/3 targets done, 120 keys moved (12.0 KiB), 300 scanned, 3s",
    );
    // "is unavailable: node-3 is shutting down", or "connection refused" once it has exited
    expect(
      err.filter(
        (l) => l.startsWith("node-3 stopped answering (") && l.endsWith("; asking the other nodes"),
      ),
    ).toHaveLength(1);
    expect(err).toContain("node-3: leaving (as node-1 sees it)");
    expect(r.out).toMatch(/^node-3 has left the cluster \(\d+s\)\n$/);
    // the request went to the contacted node, the polls to the leaving node, then to node-1
    expect(c.calls[0]).toEqual({ node: "node-1", method: "decommission", nodeId: "node-3" });
    // three answers with progress, then no answer
    expect(c.calls.filter((x) => x.node === "node-3").length).toBeGreaterThanOrEqual(3);
    expect(c.calls[c.calls.length - 1]).toEqual({ node: "node-1", method: "status" });
  });

  it("stops as soon as the leaving node itself reports that it has left", async () => {
    const c = await start({ reportsLeftBeforeExit: true });
    const r = await cli(c.nodes[0]!.address, ["decommission", "node-2"]);
    expect(r.code).toBe(ExitCode.Ok);
    expect(r.err).not.toContain("stopped answering");
    expect(r.out).toMatch(/^node-2 has left the cluster/);
  });

  it("decommissioning the contacted node: once it is gone, asks the other nodes", async () => {
    const c = await start();
    const n2 = c.nodes[1]!;
    const r = await cli(n2.address, ["decommission", "node-2"]);
    expect(r.code).toBe(ExitCode.Ok);
    const asked = c.calls.slice(-1)[0]!;
    expect(asked.node).not.toBe("node-2");
    expect(r.err).toMatch(/node-2: (leaving|left) \(as node-[13] sees it\)/);
  });

  it("--json prints one line with the last progress", async () => {
    const c = await start();
    const r = await cli(c.nodes[0]!.address, ["decommission", "node-3", "--json"]);
    expect(r.code).toBe(ExitCode.Ok);
    expect(r.err).toBe("");
    const json = JSON.parse(r.out);
    expect(json).toMatchObject({
      nodeId: "node-3",
      left: true,
      streaming: { kind: "decommission", peersDone: 3, peersTotal: 3, keysMoved: "120" },
    });
    expect(typeof json.elapsedSeconds).toBe("number");
  });

  it("gives up after --timeout with the last progress (exit 3)", async () => {
    const c = await start({ stuck: true });
    const r = await cli(c.nodes[0]!.address, ["decommission", "node-3", "--timeout", "10s"]);
    expect(r.code).toBe(ExitCode.Unavailable);
    expect(r.err.trimEnd().split("\n").pop()).toBe(
      "distkv-client: node-3 has not left within 10s (it is leaving; last progress: handing over: 0/3 targets done, 0 keys moved (0 B), 0 scanned, 0s)",
    );
    expect(r.elapsedMs).toBeGreaterThanOrEqual(9000);
    expect(r.elapsedMs).toBeLessThanOrEqual(10_000);
  });

  it("an unknown node is refused by the server (exit 4), nothing is polled", async () => {
    const c = await start();
    const r = await cli(c.nodes[0]!.address, ["decommission", "node-9"]);
    expect(r).toMatchObject({
      code: ExitCode.Rejected,
      out: "",
      err: 'distkv-client: not_found: unknown node "node-9"\n',
    });
    expect(c.calls).toEqual([{ node: "node-1", method: "decommission", nodeId: "node-9" }]);
  });

  it("an unreachable server (exit 3)", async () => {
    const port = await closedPort();
    const r = await cli(`127.0.0.1:${port}`, ["decommission", "node-1"]);
    expect(r.code).toBe(ExitCode.Unavailable);
    expect(r.err).toBe(
      `distkv-client: cannot reach DistKV at http://127.0.0.1:${port}: connection refused\n`,
    );
  });
});

describe("removenode", () => {
  const removed = (id: string) =>
    `${id} removed: marked left (gossip tells every node); its ranges move to the remaining nodes, ` +
    `run "distkv-client repair" on each of them to copy its data from the surviving replicas now ` +
    "(anti-entropy does it on its next round otherwise)\n";

  /** The state of `id` in the `status --json` of the node at `server`. */
  async function stateOf(server: string, id: string): Promise<string | undefined> {
    const status = await cli(server, ["status", "--json"]);
    const nodes: Array<{ id: string; state: string }> = JSON.parse(status.out).nodes;
    return nodes.find((n) => n.id === id)?.state;
  }

  it("removes a dead node: one line on stdout, exit 0; status reports it left from then on", async () => {
    const c = await start({ dead: ["node-3"] });
    const server = c.nodes[0]!.address;
    expect(await stateOf(server, "node-3")).toBe("NODE_STATE_DEAD");
    const r = await cli(server, ["removenode", "node-3"]);
    expect(r).toEqual({ code: ExitCode.Ok, out: removed("node-3"), err: "", elapsedMs: 0 });
    expect(c.calls.filter((x) => x.method === "removeNode")).toEqual([
      { node: "node-1", method: "removeNode", nodeId: "node-3" },
    ]);
    expect(await stateOf(server, "node-3")).toBe("NODE_STATE_LEFT");
    expect(await stateOf(c.nodes[1]!.address, "node-3")).toBe("NODE_STATE_LEFT");
    // Removing a node that already left succeeds and changes nothing.
    expect(await cli(c.nodes[1]!.address, ["removenode", "node-3"])).toMatchObject({
      code: ExitCode.Ok,
      out: removed("node-3"),
    });
    expect(await stateOf(server, "node-3")).toBe("NODE_STATE_LEFT");
  });

  it("--json prints the RemoveNodeResponse", async () => {
    const c = await start({ dead: ["node-3"] });
    await expectEach(
      c.nodes[0]!.address,
      [
        ["--json", "removenode", "node-3"],
        ["removenode", "node-3", "-json"],
      ],
      { code: ExitCode.Ok, out: '{"nodeId":"node-3"}\n', err: "" },
    );
  });

  it.each([
    [
      "a live node",
      "node-2",
      "request refused: node-2 is alive: only a dead node can be removed; decommission a live node",
    ],
    ["an unknown node", "node-9", 'not_found: unknown node "node-9"'],
    [
      "the contacted node itself",
      "node-1",
      "invalid request: remove_node needs the id of another node (a live node leaves with decommission)",
    ],
  ])("%s is refused by the server with its reason (exit 4), in --json too", async (_, id, why) => {
    const c = await start({ dead: ["node-3"] });
    const server = c.nodes[0]!.address;
    await expectEach(
      server,
      [
        ["removenode", id],
        ["removenode", id, "--json"],
      ],
      { code: ExitCode.Rejected, out: "", err: `distkv-client: ${why}\n` },
    );
    expect(c.calls.filter((x) => x.method === "removeNode")).toHaveLength(2);
    // Nothing changed: the refused node keeps its state, the dead one is still dead.
    if (id !== "node-9") expect(await stateOf(server, id)).toBe("NODE_STATE_ALIVE");
    expect(await stateOf(server, "node-3")).toBe("NODE_STATE_DEAD");
  });

  it("an unreachable server (exit 3)", async () => {
    const c = await start({ dead: ["node-3"] });
    // The dead node's own address: nobody answers there.
    const r = await cli(c.nodes[2]!.address, ["removenode", "node-3"]);
    expect(r).toMatchObject({
      code: ExitCode.Unavailable,
      out: "",
      err: `distkv-client: cannot reach DistKV at http://${c.nodes[2]!.address}: connection refused\n`,
    });
  });
});

describe.each(["decommission", "removenode"])("%s: usage errors", (command) => {
  it.each([
    [[], `missing arguments: usage: distkv-client ${command} <node-id>`],
    [[" "], "the node id must not be empty"],
    [["node-3", "node-4"], 'unexpected argument "node-4"'],
    [["node-3", "--node", "node-4"], "unexpected option --node"],
  ])("%j: exit 2, nothing sent", async (args, message) => {
    const before = created;
    await expectEach("localhost:1", [[command, ...args]], {
      code: ExitCode.Usage,
      out: "",
      err: `distkv-client: ${message}\nRun 'distkv-client ${command} --help' for usage.\n`,
    });
    expect(created).toBe(before);
  });
});

describe("the executable", () => {
  const mainJs = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "main.js");

  // Asynchronous on purpose: the fake cluster runs in this process and must keep answering.
  function exec(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [mainJs, ...args], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      let err = "";
      child.stdout.on("data", (c: Buffer) => {
        out += c.toString();
      });
      child.stderr.on("data", (c: Buffer) => {
        err += c.toString();
      });
      // A CLI that does not exit fails the test, and is not left behind.
      const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      child.on("error", reject);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code, out, err });
      });
    });
  }

  it("exits by itself after repair, cleanup, removenode and decommission (no stream left open)", async () => {
    const c = await start({ handoverPolls: 1, gossipPolls: 0, dead: ["node-3"] });
    const server = c.nodes[0]!.address;
    const repair = await exec(["--server", server, "repair"]);
    expect(repair.code).toBe(ExitCode.Ok);
    expect(repair.out).toMatch(/^Repair of node-1 done/);
    const cleanup = await exec(["--server", server, "cleanup"]);
    expect(cleanup.code).toBe(ExitCode.Ok);
    expect(cleanup.out).toMatch(/^Cleanup of node-1 done/);
    const remove = await exec(["--server", server, "removenode", "node-3"]);
    expect(remove.code).toBe(ExitCode.Ok);
    expect(remove.out).toMatch(/^node-3 removed: marked left /);
    const leave = await exec(["--server", server, "--timeout", "15s", "decommission", "node-2"]);
    expect(leave.code).toBe(ExitCode.Ok);
    expect(leave.out).toMatch(/^node-2 has left the cluster \(\d+s\)\n$/);
  });
});
