import { Code, ConnectError } from "@connectrpc/connect";
import { Consistency, type DistKVClient, NodeState } from "@distkv/rpc";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { ClusterHarness, eventually } from "./harness.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const b = (s: string) => enc.encode(s);

/** Nodes this node sees alive, unsuspected and in the ring (state ALIVE: phase normal). */
async function aliveCount(client: DistKVClient): Promise<number> {
  const status = await client.cluster.status({});
  return status.nodes.filter((n) => n.state === NodeState.ALIVE).length;
}

async function expectCode(p: Promise<unknown>, code: Code): Promise<ConnectError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConnectError);
  expect(Code[(err as ConnectError).code]).toBe(Code[code]);
  return err as ConnectError;
}

/** Starts `n` nodes seeded by the first and waits until every node sees all of them alive. */
async function startCluster(h: ClusterHarness, n: number, extra: string[] = []) {
  const first = await h.start("node1", { extra });
  for (let i = 2; i <= n; i++) await h.start(`node${i}`, { seeds: [first.address], extra });
  for (let i = 1; i <= n; i++) {
    const c = h.client(`node${i}`);
    await eventually(async () => (await aliveCount(c)) === n, 60_000);
  }
  return [...h.nodes.values()].map((node) => node.address);
}

describe("a three-node cluster of real processes", () => {
  const h = new ClusterHarness();
  beforeAll(async () => {
    await h.tempRoot();
  });
  afterEach(async () => {
    await h.cleanup();
  });

  it("puts through one node and reads, deletes and batches through the others", async () => {
    await startCluster(h, 3);
    const [c1, c2, c3] = [h.client("node1"), h.client("node2"), h.client("node3")];
    const put = await c1.kv.put({ key: b("alpha"), value: b("one") });
    expect(put.replicasAcked).toBeGreaterThanOrEqual(2);
    const got = await c2.kv.get({ key: b("alpha") });
    expect(got.found).toBe(true);
    expect(got.siblings.map((s) => dec.decode(s.value))).toEqual(["one"]);

    // Sequential overwrites through different nodes never create siblings.
    await c3.kv.put({ key: b("alpha"), value: b("two") });
    await c2.kv.put({ key: b("alpha"), value: b("three") });
    const again = await c1.kv.get({ key: b("alpha") });
    expect(again.siblings.map((s) => dec.decode(s.value))).toEqual(["three"]);

    await c3.kv.delete({ key: b("alpha") });
    expect((await c1.kv.get({ key: b("alpha") })).found).toBe(false);

    const batch = await c2.kv.batch({
      operations: [
        { op: { case: "put", value: { key: b("b1"), value: b("v1") } } },
        { op: { case: "put", value: { key: b("b2"), value: b("v2") } } },
        { op: { case: "delete", value: { key: b("b1") } } },
        { op: { case: "put", value: { key: new Uint8Array(), value: b("bad") } } },
      ],
    });
    expect(batch.results.map((r) => r.ok)).toEqual([true, true, true, false]);
    expect(batch.results[3]!.errorCode).toBe("invalid_argument");
    expect((await c3.kv.get({ key: b("b2") })).siblings.map((s) => dec.decode(s.value))).toEqual([
      "v2",
    ]);
  }, 90_000);

  it("keeps data across a restart and serves quorum with one node down; all fails clearly", async () => {
    const addresses = await startCluster(h, 3);
    const c1 = h.client("node1");
    for (let i = 0; i < 20; i++) await c1.kv.put({ key: b(`k${i}`), value: b(`v${i}`) });

    expect(await h.kill("node3")).toBeNull(); // SIGKILL: exit code null
    // Quorum reads and writes keep working with one replica down.
    for (let i = 0; i < 20; i++) {
      const g = await c1.kv.get({ key: b(`k${i}`) });
      expect(dec.decode(g.siblings[0]!.value)).toBe(`v${i}`);
    }
    await c1.kv.put({ key: b("while-down"), value: b("yes") });
    const err = await expectCode(
      c1.kv.get({ key: b("k1"), options: { consistency: Consistency.ALL } }),
      Code.Unavailable,
    );
    expect(err.rawMessage).toMatch(/needed 3 replicas/);
    // A write that misses its level is not acknowledged; it may still have reached the live
    // replicas (Dynamo does not roll back), so it uses a key of its own.
    await expectCode(
      c1.kv.put({ key: b("k-all"), value: b("x"), options: { consistency: Consistency.ALL } }),
      Code.Unavailable,
    );

    // node3 comes back with its data; `all` reads succeed again and repair what it missed.
    await h.restart("node3", [addresses[0]!]);
    const c3 = h.client("node3");
    await eventually(async () => (await aliveCount(c1)) === 3 && (await aliveCount(c3)) === 3);
    for (let i = 0; i < 20; i++) {
      const g = await c3.kv.get({ key: b(`k${i}`), options: { consistency: Consistency.ALL } });
      expect(dec.decode(g.siblings[0]!.value)).toBe(`v${i}`);
    }
    const w = await c3.kv.get({ key: b("while-down"), options: { consistency: Consistency.ALL } });
    expect(dec.decode(w.siblings[0]!.value)).toBe("yes");

    // Read repair: the `all` read above wrote the missed key back to node3; with the other two
    // nodes gone, node3 alone still answers it at consistency one.
    await h.kill("node1");
    await h.kill("node2");
    await eventually(async () => {
      const g = await c3.kv.get({
        key: b("while-down"),
        options: { consistency: Consistency.ONE },
      });
      return g.found && dec.decode(g.siblings[0]!.value) === "yes";
    });
  }, 90_000);

  it("hands hinted writes back to a replica that was down (sloppy quorum, 4 nodes, N=3)", async () => {
    const addresses = await startCluster(h, 4);
    const c1 = h.client("node1");
    await h.kill("node4");
    await eventually(async () => (await aliveCount(c1)) === 3, 40_000);
    for (let i = 0; i < 30; i++) await c1.kv.put({ key: b(`h${i}`), value: b(`v${i}`) });
    const pending = async () => {
      let total = 0;
      for (const id of ["node1", "node2", "node3"]) {
        total += Number((await h.client(id).cluster.status({})).metrics!.hintsPending);
      }
      return total;
    };
    // About 3/4 of the keys have node4 among their replicas; their writes went to a substitute.
    expect(await pending()).toBeGreaterThan(0);

    await h.restart("node4", [addresses[0]!]);
    await eventually(async () => (await pending()) === 0, 30_000);
    // Hints are deleted only after node4 acknowledged them: every key reads at `all`.
    const c4 = h.client("node4");
    for (let i = 0; i < 30; i++) {
      const g = await c4.kv.get({ key: b(`h${i}`), options: { consistency: Consistency.ALL } });
      expect(dec.decode(g.siblings[0]!.value)).toBe(`v${i}`);
    }
  }, 120_000);

  it("keeps concurrent writes as siblings and resolves them with the context", async () => {
    await startCluster(h, 3);
    const [c1, c2] = [h.client("node1"), h.client("node2")];
    // Two clients read the same (absent) key and each writes with what it read.
    const seen = await c1.kv.get({ key: b("cart") });
    expect(seen.found).toBe(false);
    await c1.kv.put({ key: b("cart"), value: b("apple"), context: seen.context });
    await c2.kv.put({ key: b("cart"), value: b("pear"), context: seen.context });
    const both = await c2.kv.get({ key: b("cart") });
    expect(both.siblings.map((s) => dec.decode(s.value)).sort()).toEqual(["apple", "pear"]);

    // A write with the context of that read supersedes both.
    await c1.kv.put({ key: b("cart"), value: b("apple+pear"), context: both.context });
    const merged = await c1.kv.get({ key: b("cart") });
    expect(merged.siblings.map((s) => dec.decode(s.value))).toEqual(["apple+pear"]);
  }, 90_000);

  it("rejects bad input with INVALID_ARGUMENT and writes nothing", async () => {
    await h.start("node1", { extra: ["-replicas=1", "-read-quorum=1", "-write-quorum=1"] });
    const c = h.client("node1");
    await expectCode(c.kv.put({ key: new Uint8Array(), value: b("v") }), Code.InvalidArgument);
    await expectCode(c.kv.put({ key: new Uint8Array(2000), value: b("v") }), Code.InvalidArgument);
    const big = await expectCode(
      c.kv.put({ key: b("big"), value: new Uint8Array(1024 * 1024 + 1) }),
      Code.InvalidArgument,
    );
    expect(big.rawMessage).toMatch(/1048576/);
    await expectCode(
      c.kv.put({ key: b("ctx"), value: b("v"), context: Uint8Array.of(0xff, 0x01, 0x02) }),
      Code.InvalidArgument,
    );
    await expectCode(
      c.kv.put({ key: b("lvl"), value: b("v"), options: { consistency: 9 as Consistency } }),
      Code.InvalidArgument,
    );
    for (const key of ["big", "ctx", "lvl"]) {
      expect((await c.kv.get({ key: b(key) })).found).toBe(false);
    }
  });
});
