import { create } from "@bufbuild/protobuf";
import {
  CleanupResponseSchema,
  GetResponseSchema,
  NodeState,
  StatusResponseSchema,
} from "@distkv/rpc";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isUsageError } from "./errors.js";
import {
  decodeUtf8,
  formatAgo,
  formatBatch,
  formatBytes,
  formatCleanup,
  formatCleanupProgress,
  formatGet,
  formatRemoveNode,
  formatStatus,
  formatUptime,
  getToJson,
  parseContext,
  toBase64,
} from "./format.js";

const text = (chunks: Array<string | Uint8Array>) =>
  Buffer.concat(chunks.map((c) => Buffer.from(c))).toString("utf8");

describe("formatAgo", () => {
  const now = 1_700_000_000_000;
  it.each([
    [0, "never"],
    [now, "0s ago"],
    [now - 2_400, "2s ago"],
    [now - 59_999, "59s ago"],
    [now - 60_000, "1m ago"],
    [now - 3_599_000, "59m ago"],
    [now - 3_600_000, "1h ago"],
    [now - 86_400_000 * 3, "3d ago"],
    [now + 5_000, "just now"],
  ])("%d -> %s", (then, expected) => {
    expect(formatAgo(then, now)).toBe(expected);
  });
});

describe("formatUptime / formatBytes", () => {
  it.each([
    [0, "0s"],
    [42, "42s"],
    [187, "3m 7s"],
    [3723, "1h 2m 3s"],
    [2 * 86_400 + 4 * 3600 + 60, "2d 4h 1m"],
  ])("uptime %d -> %s", (s, expected) => {
    expect(formatUptime(s)).toBe(expected);
  });
  it.each([
    [0, "0 B"],
    [1023, "1023 B"],
    [1024, "1.0 KiB"],
    [1_258_291, "1.2 MiB"],
  ])("bytes %d -> %s", (n, expected) => {
    expect(formatBytes(n)).toBe(expected);
  });
});

describe("get output", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  it("prints one value alone, the context only when asked", () => {
    const res = create(GetResponseSchema, {
      found: true,
      siblings: [{ value: enc("Alice"), timestampMs: 1n }],
      context: new Uint8Array([1, 2, 3]),
    });
    expect(text(formatGet(res, false))).toBe("Alice\n");
    expect(text(formatGet(res, true))).toBe("Alice\ncontext: AQID\n");
  });

  it("numbers siblings, says how to resolve them, and always shows the context", () => {
    const res = create(GetResponseSchema, {
      found: true,
      siblings: [{ value: enc("red") }, { value: enc("blue") }],
      context: new Uint8Array([255]),
    });
    expect(text(formatGet(res, false))).toBe(
      "2 siblings (concurrent writes; resolve with put <key> <value> --context <context>)\n" +
        "[1] red\n[2] blue\ncontext: /w==\n",
    );
  });

  it("keeps binary values as bytes and gives base64 in JSON", () => {
    const bin = new Uint8Array([0xff, 0x00, 0xfe]);
    const res = create(GetResponseSchema, {
      found: true,
      siblings: [{ value: bin, timestampMs: 7n }],
    });
    const out = Buffer.concat(formatGet(res, false).map((c) => Buffer.from(c)));
    expect([...out]).toEqual([0xff, 0x00, 0xfe, 0x0a]);
    expect(getToJson("k", res).siblings).toEqual([{ valueBase64: "/wD+", timestampMs: 7 }]);
    expect(decodeUtf8(bin)).toBeUndefined();
  });
});

describe("parseContext", () => {
  it("round-trips what get prints", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect([...parseContext(toBase64(bytes), "put")]).toEqual([...bytes]);
      }),
    );
  });
  it("treats a missing context as none and rejects malformed ones", () => {
    expect(parseContext(undefined, "put")).toHaveLength(0);
    for (const bad of ["!!", "a b", "abcde", "Zm9v===", "é"]) {
      let caught: unknown;
      try {
        parseContext(bad, "delete");
      } catch (e) {
        caught = e;
      }
      expect(isUsageError(caught), bad).toBe(true);
    }
  });
});

describe("formatBatch", () => {
  it("lists each operation and a summary", () => {
    expect(
      formatBatch([
        { key: "a", ok: true },
        { key: "long key", ok: false, errorCode: "unavailable", errorMessage: "no quorum" },
      ]),
    ).toBe(
      '[1] put a           ok\n[2] put "long key"  FAILED unavailable: no quorum\n1 of 2 operations failed\n',
    );
  });
});

describe("formatStatus", () => {
  it("prints totals, one line per node and the metrics", () => {
    const now = 1_700_000_000_000;
    const res = create(StatusResponseSchema, {
      nodeId: "node-1",
      totalNodes: 3,
      aliveNodes: 2,
      deadNodes: 1,
      availabilityPercent: 200 / 3,
      replicas: 3,
      readQuorum: 2,
      writeQuorum: 2,
      virtualNodes: 150,
      nodes: [
        { id: "node-1", address: "10.0.0.1:8080", state: NodeState.ALIVE, lastSeenMs: 0n },
        {
          id: "node-2",
          address: "10.0.0.2:8080",
          state: NodeState.SUSPECT,
          lastSeenMs: BigInt(now - 2000),
        },
        { id: "node-3", address: "10.0.0.3:8080", state: NodeState.DEAD, lastSeenMs: 0n },
      ],
      metrics: {
        requestsTotal: 1520n,
        requestsFailed: 3n,
        latencyAvgMs: 0.844,
        latencyP50Ms: 0.5,
        latencyP99Ms: 3.2,
        uptimeSeconds: 3723n,
        hintsPending: 12n,
        storageBytes: 2048n,
      },
    });
    expect(formatStatus(res, now)).toBe(
      [
        "Cluster status (as seen by node-1)",
        "  Total nodes:   3",
        "  Alive:         2",
        "  Dead:          1",
        "  Availability:  66.7%",
        "  Replication:   N=3, R=2, W=2, 150 virtual nodes per node",
        "",
        "Nodes:",
        "  ID      ADDRESS        STATE    LAST SEEN",
        "  node-1  10.0.0.1:8080  alive    this node",
        "  node-2  10.0.0.2:8080  suspect  2s ago",
        "  node-3  10.0.0.3:8080  dead     never",
        "",
        "Metrics (node-1):",
        "  Total requests:   1520",
        "  Failed requests:  3",
        "  Average latency:  0.84 ms",
        "  p50 latency:      0.50 ms",
        "  p99 latency:      3.20 ms",
        "  Uptime:           1h 2m 3s",
        "  Hints pending:    12",
        "  Storage:          2.0 KiB",
        "",
      ].join("\n"),
    );
  });

  it("shows a hand-over in progress on the answering node", () => {
    const out = formatStatus(
      create(StatusResponseSchema, {
        nodeId: "node-4",
        streaming: {
          kind: "join",
          keysScanned: 3000n,
          keysMoved: 1165n,
          bytesMoved: 2048n,
          peersDone: 2,
          peersTotal: 3,
          elapsedSeconds: 4.2,
        },
      }),
      0,
    );
    expect(out).toContain(
      "Hand-over (node-4): streaming in: 2/3 sources done, 1165 keys moved (2.0 KiB), 3000 scanned, 4s",
    );
  });

  it("copes with an empty answer", () => {
    const out = formatStatus(create(StatusResponseSchema, {}), 0);
    expect(out).toContain("Total nodes:   0");
    expect(out).toContain("(none reported)");
    expect(out).toContain("Metrics: not reported");
    expect(out).not.toContain("Replication");
    expect(out).not.toContain("Hand-over");
  });
});

describe("cleanup output", () => {
  const progress = create(CleanupResponseSchema, {
    nodeId: "node1",
    keysScanned: 4096n,
    keysRemoved: 1012n,
    bytesRemoved: 122_880n,
    elapsedSeconds: 0.8,
  });

  it("one progress line: keys scanned and removed, bytes removed", () => {
    expect(formatCleanupProgress(progress)).toBe(
      "cleaning up node1: 4096 keys scanned, 1012 removed (120.0 KiB)",
    );
    expect(formatCleanupProgress(create(CleanupResponseSchema, { keysScanned: 1n }))).toBe(
      "cleaning up ?: 1 key scanned, 0 removed (0 B)",
    );
  });

  it("the result: node and elapsed time in the headline, then the counters", () => {
    const done = create(CleanupResponseSchema, {
      ...progress,
      keysScanned: 1_000_000n,
      bytesRemoved: 3n * 1024n * 1024n * 1024n,
      elapsedSeconds: 62.34,
      done: true,
    });
    expect(formatCleanup(done)).toBe(
      [
        "Cleanup of node1 done in 62.3s",
        "  Keys scanned:   1000000",
        "  Keys removed:   1012",
        "  Bytes removed:  3.0 GiB",
        "",
      ].join("\n"),
    );
  });

  it("copes with an empty answer", () => {
    expect(formatCleanup(create(CleanupResponseSchema, {}))).toBe(
      "Cleanup of ? done in 0.0s\n  Keys scanned:   0\n  Keys removed:   0\n  Bytes removed:  0 B\n",
    );
  });
});

describe("removenode output", () => {
  it("one line: the node, what happened, and what to run next", () => {
    const line = formatRemoveNode("node-4");
    expect(line).toBe(
      'node-4 removed: marked left (gossip tells every node); its ranges move to the remaining nodes, run "distkv-client repair" on each of them to copy its data from the surviving replicas now (anti-entropy does it on its next round otherwise)\n',
    );
    expect(line.indexOf("\n")).toBe(line.length - 1);
  });
});
