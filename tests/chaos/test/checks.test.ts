import { Code, ConnectError } from "@connectrpc/connect";
import { HistoryRecorder, validateHistory } from "@distkv/history";
import { EMPTY_SIBLING_SET, encodeSiblingSet, type SiblingSet, update } from "@distkv/vclock";
import { describe, expect, it } from "vitest";
import { replicaDifference } from "../src/convergence.js";
import {
  chaosOptionsFromEnv,
  InvalidChaosOptionsError,
  resolveChaosOptions,
} from "../src/options.js";
import { faultsAround } from "../src/report.js";
import { historyAt } from "../src/run.js";
import { decodeSet, encodeSet, mergeSiblings } from "../src/set-workload.js";
import { checkTombstones, type TombstoneCase } from "../src/tombstone-workload.js";
import { ErrorCounts } from "../src/workload-context.js";

const b = (s: string) => new TextEncoder().encode(s);
const enc = (set: SiblingSet<Uint8Array>) => encodeSiblingSet(set);

describe("replicaDifference", () => {
  const v1 = update(EMPTY_SIBLING_SET as SiblingSet<Uint8Array>, [], b("a"), "node1", 1000);
  const v2 = update(v1, [["node1", 1]], b("b"), "node1", 2000);
  const concurrent = update(v1, [], b("c"), "node2", 2000);

  it("accepts identical copies and copies absent everywhere", () => {
    expect(
      replicaDifference([
        { nodeId: "node1", bytes: enc(v2) },
        { nodeId: "node2", bytes: enc(v2) },
        { nodeId: "node3", bytes: enc(v2) },
      ]),
    ).toBeUndefined();
    expect(
      replicaDifference([
        { nodeId: "node1", bytes: undefined },
        { nodeId: "node2", bytes: undefined },
      ]),
    ).toBeUndefined();
  });

  it("names a replica that is behind, one that lacks the key, and one with another sibling", () => {
    expect(
      replicaDifference([
        { nodeId: "node1", bytes: enc(v2) },
        { nodeId: "node2", bytes: enc(v1) },
      ]),
    ).toMatch(/node1 stores \{clock node1:2; node1:2\}, node2 stores \{clock node1:1; node1:1\}/);
    expect(
      replicaDifference([
        { nodeId: "node1", bytes: undefined },
        { nodeId: "node3", bytes: enc(v1) },
      ]),
    ).toMatch(/node3 stores .*, node1 stores nothing/);
    expect(
      replicaDifference([
        { nodeId: "node1", bytes: enc(v2) },
        { nodeId: "node2", bytes: enc(v2) },
        { nodeId: "node3", bytes: enc(concurrent) },
      ]),
    ).toMatch(/node3/);
  });

  it("flags one dot carrying two different values", () => {
    const other = update(EMPTY_SIBLING_SET as SiblingSet<Uint8Array>, [], b("x"), "node1", 1000);
    expect(
      replicaDifference([
        { nodeId: "node1", bytes: enc(v1) },
        { nodeId: "node2", bytes: enc(other) },
      ]),
    ).toMatch(/same versions with different values/);
  });
});

describe("set values", () => {
  it("round-trip, merge siblings by union, and mark malformed values", () => {
    expect(decodeSet(encodeSet(["b", "a", "b"]))).toEqual(["a", "b"]);
    expect(
      mergeSiblings({
        siblings: [{ value: encodeSet(["a", "b"]) }, { value: encodeSet(["c", "a"]) }] as never,
      }),
    ).toEqual(["a", "b", "c"]);
    expect(decodeSet(b("not json"))).toEqual(["<malformed>"]);
    expect(decodeSet(b("[1,2]"))).toEqual(["<malformed>"]);
  });
});

describe("checkTombstones", () => {
  const c = (over: Partial<TombstoneCase>): TombstoneCase => ({
    key: "k",
    value: "v",
    putOk: true,
    readValues: ["v"],
    deleteOk: true,
    ...over,
  });

  it("judges only fully acknowledged put-read-delete cases", () => {
    const cases = [
      c({ key: "gone" }),
      c({ key: "back", value: "w", readValues: ["w"] }),
      c({ key: "unread" }),
      c({ key: "delete-unknown", deleteOk: false }),
      c({ key: "read-other", readValues: ["x"] }),
      c({ key: "put-unknown", putOk: false }),
    ];
    const final = new Map<string, readonly string[]>([
      ["gone", []],
      ["back", ["w"]],
      ["delete-unknown", ["v"]],
      ["read-other", ["v"]],
      ["put-unknown", ["v"]],
    ]);
    const r = checkTombstones(cases, final);
    expect(r.cases).toBe(6);
    expect(r.checked).toBe(3);
    expect(r.unread).toBe(1);
    expect(r.resurrected).toEqual([{ key: "back", value: "w", finalValues: ["w"] }]);
  });
});

describe("chaos options", () => {
  it("fills defaults and reads the environment", () => {
    const o = resolveChaosOptions({ seed: 5 });
    expect(o.seconds).toBe(30);
    expect(o.nodes).toBe(5);
    expect(o.localTimeoutMs).toBeGreaterThan(o.deadlineMs);
    expect(o.faults).toEqual(["partition", "kill", "pause", "skew"]);
    expect(
      chaosOptionsFromEnv({ CHAOS_SECONDS: "600", CHAOS_SEED: "7", CHAOS_OUT: "/tmp/x" }),
    ).toEqual({ seconds: 600, seed: 7, outDir: "/tmp/x" });
    expect(chaosOptionsFromEnv({})).toEqual({});
  });

  it("rejects bad values naming the field", () => {
    expect(() => resolveChaosOptions({ seconds: 0 })).toThrow(/seconds/);
    expect(() => resolveChaosOptions({ seconds: 5, calmSeconds: 5 })).toThrow(/calmSeconds/);
    expect(() => resolveChaosOptions({ faults: ["flood" as never] })).toThrow(/flood/);
    expect(() => resolveChaosOptions({ holdMs: [5, 1] })).toThrow(/holdMs/);
    expect(() => resolveChaosOptions({ nodes: 3, replicas: 4 })).toThrow(/replicas/);
    expect(() => resolveChaosOptions({ conflictPolicy: "x" as never })).toThrow(/conflictPolicy/);
    expect(() => chaosOptionsFromEnv({ CHAOS_SECONDS: "ten" })).toThrow(InvalidChaosOptionsError);
  });
});

describe("historyAt", () => {
  it("cuts a history at a time, turning operations still running into pending info", () => {
    let now = 0;
    const rec = new HistoryRecorder({ now: () => now });
    const w = rec.invoke({ process: "a", key: "k", type: "write", value: "v1" });
    now = 5;
    w.ok();
    const r = rec.invoke({ process: "b", key: "k", type: "read" });
    const w2 = rec.invoke({ process: "a", key: "k", type: "write", value: "v2" });
    now = 15;
    r.ok({ values: ["v2"] });
    w2.info("deadline_exceeded");
    now = 20;
    rec.invoke({ process: "c", key: "k", type: "read" }).ok({ values: [] });
    const cut = historyAt(rec.history(), 10);
    expect(cut.map((op) => [op.id, op.outcome, op.completeMs])).toEqual([
      [0, "ok", 5],
      [1, "info", null],
      [2, "info", null],
    ]);
    expect(cut[1]!.values).toBeUndefined();
    expect(() => validateHistory(cut)).not.toThrow();
  });
});

describe("report helpers", () => {
  it("counts client errors by kind and code and keeps a few samples per code", () => {
    const errors = new ErrorCounts(2);
    for (let i = 0; i < 3; i++) errors.add("read", new ConnectError(`down ${i}`, Code.Unavailable));
    errors.add("write", new ConnectError("late", Code.DeadlineExceeded));
    expect(errors.entries()).toEqual([
      ["read unavailable", 3],
      ["write deadline_exceeded", 1],
    ]);
    expect(errors.samples()).toEqual([
      ["deadline_exceeded", ["write: deadline_exceeded: late"]],
      ["unavailable", ["read: unavailable: down 0", "read: unavailable: down 1"]],
    ]);
  });

  it("names the faults active around a time span, or the last one healed", () => {
    const faults = {
      events: [
        { kind: "kill" as const, nodes: ["n1"], detail: "SIGKILL n1", startMs: 1000, endMs: 3000 },
        { kind: "pause" as const, nodes: ["n2"], detail: "SIGSTOP n2", startMs: 5000, endMs: 6000 },
      ],
      counts: { partition: 0, kill: 1, pause: 1, skew: 0 },
      droppedCalls: 0,
      errors: [],
      restartMs: [],
    };
    expect(faultsAround({ faults }, 0, 500)).toBe("no fault before it");
    expect(faultsAround({ faults }, 2500, 5500)).toBe(
      "during kill SIGKILL n1 [1.0 s - 3.0 s]; pause SIGSTOP n2 [5.0 s - 6.0 s]",
    );
    expect(faultsAround({ faults }, 4000, 4500)).toBe(
      "no fault active; 1.0 s after kill SIGKILL n1 healed",
    );
  });
});
