import { HashRing } from "@distkv/ring";
import { decodeContext, encodeContext, versionVector } from "@distkv/vclock";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { findKey, footprint, isSettled, rejection, text, utf8, valuesOf } from "../test/helpers.js";
import { Coordinator } from "./coordinator.js";
import {
  type DeadlineExceededError,
  type InvalidArgumentError,
  isAbortedError,
  isDeadlineExceededError,
  isInvalidArgumentError,
  isInvalidQuorumOptionsError,
  isNotCoordinatorError,
  isUnavailableError,
  type NotCoordinatorError,
  type UnavailableError,
} from "./errors.js";
import { InMemoryReplicaStore } from "./in-memory-replica-store.js";
import { InMemoryCluster, InMemoryMembership, ManualClock } from "./testing/index.js";

function cluster(
  nodes: number,
  extra: Partial<ConstructorParameters<typeof InMemoryCluster>[0]> = {},
) {
  return new InMemoryCluster({ nodes, clock: new ManualClock(), ...extra });
}

describe("basic reads and writes", () => {
  test("a read whose one replica is this node is the local store's answer, without a request scope", async () => {
    const c = cluster(1, { quorum: { replicas: 1, readQuorum: 1, writeQuorum: 1 } });
    const node = c.node("node-1");
    await node.coordinator.put("k", utf8("v1"));
    await node.coordinator.put("k", utf8("v2"));
    await c.settle();
    expect(node.coordinator.activeOperations).toBe(0);
    const reading = node.coordinator.get("k");
    // The general path keeps a scope open until its background work ends; this one has none.
    expect(node.coordinator.activeOperations).toBe(0);
    const got = await reading;
    expect(valuesOf(got)).toEqual(["v2"]);
    expect(got.replicasAnswered).toBe(1);
    // The context covers what was read: a put with it replaces the value, no sibling.
    await node.coordinator.put("k", utf8("v3"), { context: got.context });
    expect(valuesOf(await node.coordinator.get("k"))).toEqual(["v3"]);
    expect((await node.coordinator.get("missing")).found).toBe(false);

    // A failing store read is an UnavailableError naming this node, as on the general path.
    node.store.read = () => Promise.reject(new Error("disk on fire"));
    const e = (await rejection(node.coordinator.get("k"))) as UnavailableError;
    expect(e).toMatchObject({ name: "UnavailableError", needed: 1, answered: 0 });
    expect(e.failed).toMatchObject([{ nodeId: "node-1", reason: "error" }]);
    expect(e.failed[0]!.message).toMatch(/disk on fire/);
  });

  test("a put is read back through another coordinator, and a delete hides it", async () => {
    const c = cluster(5);
    const key = "user:42";
    const coordinator = c.coordinatorFor(key)!;
    const put = await c.node(coordinator).coordinator.put(key, utf8("hello"));
    expect(put.version.actor).toBe(coordinator);
    expect(put.replicasAcked).toBe(2);
    await c.settle();
    // Any node may coordinate a read, a non-replica included.
    for (const id of c.nodeIds.filter((id) => id !== coordinator)) {
      const got = await c.node(id).coordinator.get(key);
      expect(got.found).toBe(true);
      expect(valuesOf(got)).toEqual(["hello"]);
    }
    const del = await c.delete(key);
    expect(del.replicasAcked).toBe(2);
    await c.settle();
    for (const id of c.nodeIds) {
      const got = await c.node(id).coordinator.get(key, { consistency: "all" });
      expect(got.found).toBe(false);
      expect(got.siblings).toEqual([]);
      // The tombstone is still there, with a context a later write should carry.
      expect(got.set.siblings.length).toBe(1);
      expect(got.set.siblings[0]!.value).toBeNull();
    }
  });

  test("a key that was never written is not found, with an empty context", async () => {
    const c = cluster(3);
    const got = await c.get("nothing");
    expect(got.found).toBe(false);
    expect(got.siblings).toEqual([]);
    expect(decodeContext(got.context)).toEqual([]);
  });

  test("replicas hold the data; non-replicas do not", async () => {
    const c = cluster(6);
    await c.put("k", utf8("v"), { consistency: "all" });
    await c.settle();
    const replicas = c.preferenceList("k");
    for (const node of c.nodes()) {
      expect(node.store.peek("k") !== undefined).toBe(replicas.includes(node.id));
    }
  });

  test("sequential writes through the coordinator never create siblings", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom("a", "b", "c"), fc.string({ maxLength: 8 })), {
          minLength: 1,
          maxLength: 20,
        }),
        fc.integer({ min: 0, max: 1000 }),
        async (ops, seed) => {
          // Random link delays: replication lags behind, answers come after W = 2.
          const c = cluster(5, { seed });
          c.network.setLink("*", "*", { delayMs: [0, 5] });
          const last = new Map<string, string>();
          for (const [key, value] of ops) {
            await c.run(c.put(key, utf8(value)));
            last.set(key, value);
          }
          await c.settle();
          for (const [key, value] of last) {
            const got = await c.run(c.get(key, { consistency: "all" }));
            expect(valuesOf(got)).toEqual([value]);
          }
        },
      ),
      { numRuns: 30 },
    );
  });

  test("a write with the context of an older read supersedes only what that read saw", async () => {
    const c = cluster(3);
    await c.put("k", utf8("v1"));
    const read = await c.get("k");
    await c.put("k", utf8("v2"), { context: read.context });
    const v2 = await c.get("k");
    expect(valuesOf(v2)).toEqual(["v2"]);
    // A second writer that still holds the first read's context: both versions survive.
    await c.put("k", utf8("v3"), { context: read.context });
    await c.settle();
    expect(valuesOf(await c.get("k", { consistency: "all" }))).toEqual(["v2", "v3"]);
  });
});

describe("consistency levels", () => {
  test("replies and acknowledgements waited for equal one = 1, quorum = floor(N/2)+1, all = N", async () => {
    for (const n of [1, 2, 3, 4, 5]) {
      const c = cluster(7, { quorum: { replicas: n } });
      const expected = { one: 1, quorum: Math.floor(n / 2) + 1, all: n } as const;
      for (const level of ["one", "quorum", "all"] as const) {
        const put = await c.put(`k-${level}`, utf8("v"), { consistency: level });
        expect(put.replicasAcked).toBe(expected[level]);
        await c.settle();
        const got = await c.get(`k-${level}`, { consistency: level });
        expect(got.replicasAnswered).toBe(expected[level]);
        expect(valuesOf(got)).toEqual(["v"]);
      }
    }
  });

  test("without a level, the configured R and W apply", async () => {
    const c = cluster(5, { quorum: { replicas: 3, readQuorum: 3, writeQuorum: 1 } });
    const put = await c.put("k", utf8("v"));
    expect(put.replicasAcked).toBe(1);
    await c.settle();
    const got = await c.get("k");
    expect(got.replicasAnswered).toBe(3);
  });

  test("R and W are validated against N at construction", () => {
    const ring = new HashRing();
    ring.addNode("a");
    const base = {
      ring,
      membership: new InMemoryMembership().view("a"),
      store: new InMemoryReplicaStore(),
      transport: {
        write: async () => {},
        read: async () => undefined,
      },
    };
    for (const options of [
      { replicas: 3, readQuorum: 4 },
      { replicas: 3, writeQuorum: 0 },
      { replicas: 2, writeQuorum: 3 },
      { replicas: 0 },
      { replicas: 1.5 },
      { timeoutMs: 0 },
      { conflictPolicy: "newest" as never },
      { bogus: 1 } as never,
    ]) {
      const e = (() => {
        try {
          new Coordinator({ ...base, options });
        } catch (err) {
          return err;
        }
        return undefined;
      })();
      expect(isInvalidQuorumOptionsError(e), JSON.stringify(options)).toBe(true);
    }
    expect(new Coordinator({ ...base, options: { replicas: 5 } }).options).toMatchObject({
      replicas: 5,
      readQuorum: 3,
      writeQuorum: 3,
      timeoutMs: 5000,
      maxKeyBytes: 1024,
      maxValueBytes: 1048576,
      conflictPolicy: "siblings",
      sloppyQuorum: true,
      readRepair: true,
    });
  });

  test("one replica down: quorum succeeds, all fails at once with needed and answered", async () => {
    const c = cluster(3);
    const key = "k";
    const [first, , third] = c.preferenceList(key) as [string, string, string];
    await c.put(key, utf8("before"), { consistency: "all" });
    c.crash(third);
    const put = await c.put(key, utf8("after"));
    expect(put.replicasAcked).toBe(2);
    expect(valuesOf(await c.get(key))).toEqual(["after"]);

    const readAll = (await rejection(c.get(key, { consistency: "all" }))) as UnavailableError;
    expect(isUnavailableError(readAll)).toBe(true);
    expect(readAll).toMatchObject({ operation: "read", needed: 3, answered: 0 });
    expect(readAll.failed.map((f) => [f.nodeId, f.reason])).toEqual([[third, "down"]]);

    const before = c.node(first).store.peek(key);
    const writeAll = (await rejection(
      c.put(key, utf8("x"), { consistency: "all" }),
    )) as UnavailableError;
    expect(writeAll).toMatchObject({
      name: "UnavailableError",
      operation: "write",
      needed: 3,
      answered: 0,
    });
    // Thrown before anything was written.
    expect(c.node(first).store.peek(key)).toBe(before);
    expect(c.activeOperations).toBe(0);

    c.crash(first);
    const readQuorum = (await rejection(c.get(key))) as UnavailableError;
    expect(readQuorum).toMatchObject({ needed: 2, answered: 0 });
    expect(readQuorum.failed.map((f) => f.nodeId).sort()).toEqual([first, third].sort());
    const stats = c.node(c.coordinatorFor(key)!).coordinator.stats();
    expect(stats.failures.unavailable).toBeGreaterThanOrEqual(1);
  });

  test("all: hinted copies do not count, so it fails even when substitutes exist", async () => {
    const c = cluster(5);
    const key = "k";
    const [, , third] = c.preferenceList(key) as [string, string, string];
    c.crash(third);
    const e = (await rejection(c.put(key, utf8("v"), { consistency: "all" }))) as UnavailableError;
    expect(e).toMatchObject({ name: "UnavailableError", needed: 3, answered: 0 });
    expect(footprint(c)).toEqual({ keys: 0, hints: 0 });
    // quorum and one may count the substitute's hinted acknowledgement.
    const put = await c.put(key, utf8("v"), { consistency: "quorum" });
    expect(put.replicasAcked).toBe(2);
  });

  test("two replicas down: quorum writes succeed only through a substitute; quorum reads fail", async () => {
    const c = cluster(5);
    const key = "k";
    const [, second, third] = c.preferenceList(key) as [string, string, string];
    c.crash(second);
    c.crash(third);
    const put = await c.put(key, utf8("v"));
    expect(put).toMatchObject({ replicasAcked: 2, hintedAcks: 1 });
    const e = (await rejection(c.get(key))) as UnavailableError;
    expect(e).toMatchObject({ name: "UnavailableError", needed: 2, answered: 0 });
    expect(valuesOf(await c.get(key, { consistency: "one" }))).toEqual(["v"]);
  });

  test("sloppyQuorum: false sends hints but never counts them", async () => {
    const c = cluster(5, { quorum: { sloppyQuorum: false } });
    const key = "k";
    const [, second, third] = c.preferenceList(key) as [string, string, string];
    c.crash(third);
    const put = await c.put(key, utf8("v"));
    expect(put).toMatchObject({ replicasAcked: 2, hintedAcks: 0 });
    await c.settle();
    expect(footprint(c).hints).toBe(1); // the down replica's copy is still kept as a hint
    c.crash(second);
    const e = (await rejection(c.put(key, utf8("w")))) as UnavailableError;
    expect(e).toMatchObject({ name: "UnavailableError", needed: 2, answered: 0 });
  });

  test("replicas that fail during the request make it unavailable once W cannot be met", async () => {
    const c = cluster(3);
    const key = "k";
    const [, second, third] = c.preferenceList(key) as [string, string, string];
    // Crashed, but membership has not noticed: the calls fail.
    c.network.setNodeFault(second, "crashed");
    c.network.setNodeFault(third, "crashed");
    const e = (await rejection(c.put(key, utf8("v")))) as UnavailableError;
    expect(e).toMatchObject({
      name: "UnavailableError",
      operation: "write",
      needed: 2,
      answered: 1,
    });
    expect(e.failed.map((f) => f.nodeId).sort()).toEqual([second, third].sort());
    expect(e.failed.every((f) => f.reason === "error")).toBe(true);
    const r = (await rejection(c.get(key))) as UnavailableError;
    expect(r).toMatchObject({ operation: "read", needed: 2, answered: 1 });
  });

  test("a replica that fails unnoticed is replaced by a substitute holding a hint", async () => {
    const c = cluster(5);
    const key = "k";
    const [first, second, third] = c.preferenceList(key) as [string, string, string];
    c.network.setNodeFault(second, "crashed");
    c.network.setNodeFault(third, "crashed");
    const put = await c.put(key, utf8("v"));
    expect(put.replicasAcked).toBe(2);
    expect(put.hintedAcks).toBe(1);
    await c.settle();
    const hints = c.nodes().flatMap((n) => n.hints.all().map((h) => [n.id, h.targetNodeId]));
    expect(hints.length).toBe(2);
    for (const [holder, target] of hints) {
      expect([first, second, third]).not.toContain(holder);
      expect([second, third]).toContain(target);
    }
  });
});

describe("deadlines, aborts and stop", () => {
  test("a replica that never answers: DeadlineExceededError exactly at the deadline", async () => {
    const clock = new ManualClock();
    const c = new InMemoryCluster({ nodes: 3, clock });
    const key = "k";
    await c.put(key, utf8("v"), { consistency: "all" });
    const [, , third] = c.preferenceList(key) as [string, string, string];
    c.hang(third);
    const read = c.get(key, { consistency: "all", timeoutMs: 1000 });
    await clock.advance(999);
    expect(await isSettled(read)).toBe(false);
    await clock.advance(1);
    const e = (await rejection(read)) as DeadlineExceededError;
    expect(isDeadlineExceededError(e)).toBe(true);
    expect(e).toMatchObject({ operation: "read", timeoutMs: 1000, needed: 3, answered: 2 });
    expect(e.pending).toEqual([third]);

    const write = c.put(key, utf8("w"), { consistency: "all" });
    await clock.advance(4999);
    expect(await isSettled(write)).toBe(false);
    await clock.advance(1);
    const w = (await rejection(write)) as DeadlineExceededError;
    expect(w).toMatchObject({ name: "DeadlineExceededError", operation: "write", timeoutMs: 5000 });
    expect(w).toMatchObject({ needed: 3, answered: 2, pending: [third] });
    // Nothing is left running after the deadline.
    await c.settle();
    expect(c.activeOperations).toBe(0);
  });

  test("with real timers, a hung replica costs the timeout and no more work", async () => {
    const c = new InMemoryCluster({ nodes: 3 });
    const key = "k";
    c.hang(c.preferenceList(key)[1]!);
    const e = await rejection(c.get(key, { consistency: "all", timeoutMs: 30 }));
    expect(isDeadlineExceededError(e)).toBe(true);
    await c.settle();
    expect(c.activeOperations).toBe(0);
  });

  test("an AbortSignal rejects the request with AbortedError", async () => {
    const c = cluster(3);
    const key = "k";
    const [, second, third] = c.preferenceList(key) as [string, string, string];
    c.hang(second);
    c.hang(third);
    const controller = new AbortController();
    const put = c.put(key, utf8("v"), { signal: controller.signal });
    expect(await isSettled(put)).toBe(false);
    controller.abort(new Error("client went away"));
    const e = (await rejection(put)) as Error;
    expect(isAbortedError(e)).toBe(true);
    expect((e.cause as Error).message).toBe("client went away");

    // Already aborted: rejected before anything is written.
    const before = footprint(c);
    const e2 = await rejection(c.put("other", utf8("v"), { signal: AbortSignal.abort() }));
    expect(isAbortedError(e2)).toBe(true);
    const e3 = await rejection(c.get("other", { signal: AbortSignal.abort() }));
    expect(isAbortedError(e3)).toBe(true);
    expect(footprint(c)).toEqual(before);
  });

  test("stop() rejects requests in flight and new ones", async () => {
    const c = cluster(3);
    const key = "k";
    const id = c.coordinatorFor(key)!;
    for (const other of c.preferenceList(key).filter((x) => x !== id)) c.hang(other);
    const coordinator = c.node(id).coordinator;
    const put = coordinator.put(key, utf8("v"));
    expect(await isSettled(put)).toBe(false);
    coordinator.stop();
    expect(isAbortedError(await rejection(put))).toBe(true);
    expect(isAbortedError(await rejection(coordinator.get(key)))).toBe(true);
    await c.settle();
    expect(coordinator.activeOperations).toBe(0);
  });
});

test("many requests in flight trigger no listener-leak warning", async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.name);
  process.on("warning", onWarning);
  try {
    const c = new InMemoryCluster({ nodes: 5, quorum: { replicas: 5 } });
    await Promise.all(
      Array.from({ length: 100 }, (_, i) => c.put(`k${i % 3}`, utf8("v"), { consistency: "all" })),
    );
    await Promise.all(Array.from({ length: 100 }, (_, i) => c.get(`k${i % 3}`)));
    await c.settle();
    await new Promise((r) => setTimeout(r, 10));
    expect(warnings).toEqual([]);
  } finally {
    process.off("warning", onWarning);
  }
});

describe("input validation: nothing is written on bad input", () => {
  test.each([
    ["an empty key", "", utf8("v"), {}, "key", /empty/],
    ["an oversized key", "x".repeat(1025), utf8("v"), {}, "key", /1025 bytes.*1024 bytes/],
    ["an oversized value", "k", new Uint8Array(1024 * 1024 + 1), {}, "value", /1048577.*1048576/],
    ["a value that is not bytes", "k", "v" as unknown as Uint8Array, {}, "value", /Uint8Array/],
    [
      "a truncated context",
      "k",
      utf8("v"),
      { context: Uint8Array.of(1, 2, 6) },
      "context",
      /malformed context token/,
    ],
    [
      "a context of an unknown format",
      "k",
      utf8("v"),
      { context: Uint8Array.of(7, 0) },
      "context",
      /malformed/,
    ],
    [
      "a context with trailing bytes",
      "k",
      utf8("v"),
      { context: Uint8Array.of(1, 0, 0) },
      "context",
      /malformed/,
    ],
    [
      "an oversized context",
      "k",
      utf8("v"),
      { context: new Uint8Array(70_000) },
      "context",
      /65536/,
    ],
    [
      "an unknown consistency",
      "k",
      utf8("v"),
      { consistency: "most" },
      "consistency",
      /consistency/,
    ],
    [
      "an unknown policy",
      "k",
      utf8("v"),
      { conflictPolicy: "newest" },
      "conflictPolicy",
      /conflictPolicy/,
    ],
    ["a zero timeout", "k", utf8("v"), { timeoutMs: 0 }, "timeoutMs", /timeoutMs/],
  ])("%s", async (_name, key, value, options, field, message) => {
    const c = cluster(3);
    const e = (await rejection(c.put(key, value, options as never))) as InvalidArgumentError;
    expect(isInvalidArgumentError(e)).toBe(true);
    expect(e.field).toBe(field);
    expect(e.message).toMatch(message);
    expect(footprint(c)).toEqual({ keys: 0, hints: 0 });
    expect(c.activeOperations).toBe(0);
  });

  test("limits are configurable", async () => {
    const c = cluster(3, { quorum: { maxKeyBytes: 4, maxValueBytes: 2 } });
    await c.put("abcd", utf8("xy"));
    expect(isInvalidArgumentError(await rejection(c.put("abcde", utf8("x"))))).toBe(true);
    expect(isInvalidArgumentError(await rejection(c.put("abcd", utf8("xyz"))))).toBe(true);
    expect(isInvalidArgumentError(await rejection(c.get("abcde")))).toBe(true);
    expect(c.node(c.nodeIds[0]!).coordinator.stats().failures.invalidArgument).toBeGreaterThan(0);
  });

  test("keys are bytes: a string and its UTF-8 bytes are the same key", async () => {
    const c = cluster(3);
    await c.put("ключ", utf8("v"));
    expect(valuesOf(await c.get(utf8("ключ")))).toEqual(["v"]);
    const raw = Uint8Array.of(0xff, 0x00, 0xfe);
    await c.put(raw, utf8("bytes"));
    expect(valuesOf(await c.get(raw))).toEqual(["bytes"]);
  });

  test("an empty context token means no context (overwrite)", async () => {
    const c = cluster(3);
    await c.put("k", utf8("a"));
    await c.put("k", utf8("b"), { context: new Uint8Array(0) });
    expect(valuesOf(await c.get("k"))).toEqual(["b"]);
  });

  test("a context for the empty clock writes blind: the new value is a sibling", async () => {
    const c = cluster(3);
    await c.put("k", utf8("a"));
    await c.put("k", utf8("b"), { context: encodeContext(versionVector()) });
    expect(valuesOf(await c.get("k"))).toEqual(["a", "b"]);
  });
});

describe("routing", () => {
  test("a non-replica refuses writes with NotCoordinatorError naming the coordinator", async () => {
    const c = cluster(5);
    const key = "k";
    const replicas = c.preferenceList(key);
    const outsider = c.nodeIds.find((id) => !replicas.includes(id))!;
    const e = (await rejection(
      c.node(outsider).coordinator.put(key, utf8("v")),
    )) as NotCoordinatorError;
    expect(isNotCoordinatorError(e)).toBe(true);
    expect(e.coordinator).toBe(replicas[0]);
    expect(e.preferenceList).toEqual(replicas);
    expect(footprint(c)).toEqual({ keys: 0, hints: 0 });
    // The coordinator is the first live replica.
    expect(c.node(outsider).coordinator.coordinatorFor(key)).toBe(replicas[0]);
    c.crash(replicas[0]!);
    expect(c.node(outsider).coordinator.coordinatorFor(key)).toBe(replicas[1]);
    // Any replica may coordinate, not only the first.
    const put = await c.node(replicas[2]!).coordinator.put(key, utf8("v"));
    expect(put.version.actor).toBe(replicas[2]);
  });

  test("coordinatorFor is undefined when no replica is alive", () => {
    const c = cluster(5);
    const key = findKey(c, () => true);
    for (const id of c.preferenceList(key)) c.crash(id);
    const outsider = c.nodeIds.find((id) => !c.preferenceList(key).includes(id))!;
    expect(c.node(outsider).coordinator.coordinatorFor(key)).toBeUndefined();
  });

  test("the ring may be given as a function and changes are seen by the next request", async () => {
    const c = cluster(3);
    let ring = c.ring;
    const node = c.node(c.nodeIds[0]!);
    const coordinator = new Coordinator({
      ring: () => ring,
      membership: node.membership,
      store: node.store,
      transport: node.transport,
      clock: c.clock,
    });
    expect(coordinator.preferenceList("k").length).toBe(3);
    ring = new HashRing();
    ring.addNode(c.nodeIds[0]!);
    expect(coordinator.preferenceList("k")).toEqual([c.nodeIds[0]]);
    await coordinator.put("k", utf8("alone"), { consistency: "one" });
    expect(text(node.store.peek("k")!.siblings[0]!.value!)).toBe("alone");
  });
});
