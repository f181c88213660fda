/**
 * Anti-entropy between several nodes in one process, through an in-memory fake of the
 * interfaces the module asks for (`FakeCluster`: stores, ring, liveness, clock and a peer
 * network that serialises every call as protobuf, as the real channel does).
 */
import {
  create,
  type DescMessage,
  fromBinary,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { HashRing } from "@distkv/ring";
import {
  type InitOf,
  MerkleExchangeRequestSchema,
  MerkleExchangeResponseSchema,
  type PeerRequestOf,
  type PeerResponseOf,
  RepairRequestSchema,
  RepairResponseSchema,
  ReplicaReadRequestSchema,
  ReplicaReadResponseSchema,
  ReplicaWriteRequestSchema,
  ReplicaWriteResponseSchema,
  TombstoneCheckRequestSchema,
  TombstoneCheckResponseSchema,
  TombstonePurgeRequestSchema,
  TombstonePurgeResponseSchema,
  UnavailableError,
} from "@distkv/rpc";
import {
  context,
  decodeSiblingSet,
  EMPTY_SIBLING_SET,
  encodeSiblingSet,
  sync,
  update,
  values,
} from "@distkv/vclock";
import { afterEach, describe, expect, it } from "vitest";
import {
  AntiEntropy,
  type AntiEntropyCallKind,
  type AntiEntropyOptions,
  type AntiEntropyPeers,
  type AntiEntropyStore,
  type RepairReport,
  type StoredEntry,
} from "./anti-entropy.js";

const utf8 = new TextEncoder();
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const latin1 = (b: Uint8Array) => Buffer.from(b).toString("latin1");
const GRACE = 60_000;
const T0 = 1_700_000_000_000;

/** One node of the fake: a sorted in-memory store and its AntiEntropy. */
class FakeNode implements AntiEntropyStore {
  readonly data = new Map<string, Uint8Array>();
  ae!: AntiEntropy;
  clockOffsetMs = 0;
  /** Runs before a peer call of this kind is served here (to inject races). */
  beforeServe: Partial<Record<AntiEntropyCallKind, () => Promise<void> | void>> = {};
  /** Hand recordWrite the decoded set too, as the server's storage does. */
  passSet = true;

  constructor(readonly id: string) {}

  private sorted: string[] | undefined;

  async scan(afterKey: Uint8Array | undefined, maxEntries: number) {
    // Sorted once and reused while the key set is unchanged, like an LSM iterator's order.
    if (this.sorted === undefined || this.sorted.length !== this.data.size) {
      this.sorted = [...this.data.keys()].sort();
    }
    const keys = this.sorted;
    const after = afterKey === undefined ? undefined : latin1(afterKey);
    let from = 0;
    if (after !== undefined) {
      let hi = keys.length;
      while (from < hi) {
        const mid = (from + hi) >>> 1;
        if (keys[mid]! <= after) from = mid + 1;
        else hi = mid;
      }
    }
    const slice = keys.slice(from, from + maxEntries);
    const entries: StoredEntry[] = slice.map((k) => ({
      key: new Uint8Array(Buffer.from(k, "latin1")),
      siblings: this.data.get(k)!,
    }));
    return { entries, done: from + maxEntries >= keys.length };
  }

  async read(key: Uint8Array) {
    return this.data.get(latin1(key));
  }

  async merge(key: Uint8Array, siblings: Uint8Array) {
    const k = latin1(key);
    const current = this.data.get(k);
    const set =
      current === undefined
        ? decodeSiblingSet(siblings)
        : sync(decodeSiblingSet(current), decodeSiblingSet(siblings));
    const merged = current === undefined ? siblings : encodeSiblingSet(set);
    this.data.set(k, merged);
    this.ae.recordWrite(key, merged, this.passSet ? set : undefined);
    return merged;
  }

  async purge(key: Uint8Array, expected: Uint8Array) {
    const k = latin1(key);
    const current = this.data.get(k);
    if (current === undefined || !Buffer.from(current).equals(expected)) return false;
    this.data.delete(k);
    this.ae.recordWrite(key, undefined);
    return true;
  }

  /** The live values of a key here ([] for a tombstone, undefined when absent). */
  valuesOf(key: string): string[] | undefined {
    const b = this.data.get(latin1(utf8.encode(key)));
    return b === undefined ? undefined : values(decodeSiblingSet(b)).map(text);
  }
}

type Handler = (node: FakeNode, req: never) => Promise<unknown> | unknown;

/**
 * A cluster of FakeNodes: one ring, liveness, a shared clock, and a peer network that turns
 * every call into protobuf bytes and back and counts them.
 */
class FakeCluster {
  readonly nodes = new Map<string, FakeNode>();
  readonly ring = new HashRing({ virtualNodes: 16 });
  readonly down = new Set<string>();
  stable = true;
  nowMs = T0;
  wireBytes = 0;
  calls = new Map<string, number>();

  constructor(
    ids: readonly string[],
    readonly replicas = 3,
    options: AntiEntropyOptions = {},
  ) {
    for (const id of ids) this.add(id, options);
  }

  add(id: string, options: AntiEntropyOptions = {}): FakeNode {
    const node = new FakeNode(id);
    this.ring.addNode(id);
    node.ae = new AntiEntropy(
      {
        store: node,
        peers: this.peersOf(id),
        cluster: {
          localId: id,
          replicas: this.replicas,
          ring: () => this.ring,
          isAlive: (n) => n === id || (this.nodes.has(n) && !this.down.has(n)),
          isStable: () => this.stable,
        },
      },
      {
        intervalMs: 0,
        tombstoneGraceMs: GRACE,
        now: () => this.nowMs + node.clockOffsetMs,
        ...options,
      },
    );
    this.nodes.set(id, node);
    return node;
  }

  node(id: string): FakeNode {
    return this.nodes.get(id)!;
  }

  /** Starts every node's anti-entropy and waits until its trees are built. */
  async start(): Promise<void> {
    for (const n of this.nodes.values()) n.ae.start();
    for (const n of this.nodes.values()) await waitUntil(() => n.ae.ready);
  }

  async stop(): Promise<void> {
    for (const n of this.nodes.values()) await n.ae.stop();
  }

  replicasOf(key: string): string[] {
    return this.ring.preferenceList(key, this.replicas);
  }

  /**
   * A coordinated write: the first replica that is up versions it (its copy's context, so an
   * overwrite) and every replica in `to` (default: the up ones) merges the result. A replica
   * left out is one that missed the write, as with hinted handoff off.
   */
  write(key: string, value: string | null, to?: readonly string[]): void {
    const replicas = this.replicasOf(key);
    const targets = to ?? replicas.filter((id) => !this.down.has(id));
    const coordinator = this.node(targets[0]!);
    const k = utf8.encode(key);
    const stored = coordinator.data.get(latin1(k));
    const current = stored === undefined ? EMPTY_SIBLING_SET : decodeSiblingSet(stored);
    const next = update(
      current,
      context(current),
      value === null ? null : utf8.encode(value),
      coordinator.id,
      this.nowMs,
    );
    const bytes = encodeSiblingSet(next);
    for (const id of targets) void this.node(id).merge(k, bytes);
  }

  /** Keys whose replicas do not all hold identical bytes (absent counts as a value). */
  divergentKeys(): string[] {
    const keys = new Set<string>();
    for (const n of this.nodes.values()) for (const k of n.data.keys()) keys.add(k);
    const out: string[] = [];
    for (const k of keys) {
      const key = Buffer.from(k, "latin1").toString("utf8");
      const copies = this.replicasOf(key).map((id) => this.node(id).data.get(k));
      const first = copies[0];
      if (
        !copies.every((c) =>
          c === undefined || first === undefined ? c === first : Buffer.from(c).equals(first),
        )
      ) {
        out.push(key);
      }
    }
    return out.sort();
  }

  private peersOf(from: string): AntiEntropyPeers {
    const handlers: Record<
      AntiEntropyCallKind,
      { req: DescMessage; res: DescMessage; serve: Handler }
    > = {
      merkleExchange: {
        req: MerkleExchangeRequestSchema,
        res: MerkleExchangeResponseSchema,
        serve: (n, r: PeerRequestOf<"merkleExchange">) => n.ae.serveMerkleExchange(r),
      },
      tombstoneCheck: {
        req: TombstoneCheckRequestSchema,
        res: TombstoneCheckResponseSchema,
        serve: (n, r: PeerRequestOf<"tombstoneCheck">) => n.ae.serveTombstoneCheck(r),
      },
      tombstonePurge: {
        req: TombstonePurgeRequestSchema,
        res: TombstonePurgeResponseSchema,
        serve: (n, r: PeerRequestOf<"tombstonePurge">) => n.ae.serveTombstonePurge(r),
      },
      replicaRead: {
        req: ReplicaReadRequestSchema,
        res: ReplicaReadResponseSchema,
        serve: async (n, r: PeerRequestOf<"replicaRead">) => {
          const b = await n.read(r.key);
          return b === undefined ? { found: false } : { found: true, siblings: b };
        },
      },
      replicaWrite: {
        req: ReplicaWriteRequestSchema,
        res: ReplicaWriteResponseSchema,
        serve: async (n, r: PeerRequestOf<"replicaWrite">) => {
          await n.merge(r.key, r.siblings);
          return {};
        },
      },
      repair: {
        req: RepairRequestSchema,
        res: RepairResponseSchema,
        serve: (n, r: PeerRequestOf<"repair">) => n.ae.serveRepair(r),
      },
    };
    return {
      call: async <K extends AntiEntropyCallKind>(
        nodeId: string,
        kind: K,
        request: InitOf<PeerRequestOf<K>>,
        options: { timeoutMs: number; signal: AbortSignal },
      ): Promise<PeerResponseOf<K>> => {
        options.signal.throwIfAborted();
        const target = this.nodes.get(nodeId);
        if (target === undefined || this.down.has(nodeId) || this.down.has(from)) {
          throw new UnavailableError(nodeId, "connection refused");
        }
        this.calls.set(kind, (this.calls.get(kind) ?? 0) + 1);
        const h = handlers[kind];
        const reqBytes = toBinary(h.req, create(h.req, request as never));
        await target.beforeServe[kind]?.();
        const res = await h.serve(target, fromBinary(h.req, reqBytes) as never);
        const resBytes = toBinary(h.res, create(h.res, res as never));
        this.wireBytes += reqBytes.length + resBytes.length;
        return fromBinary(h.res, resBytes) as MessageShape<DescMessage> as PeerResponseOf<K>;
      },
    };
  }
}

async function waitUntil(f: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !f(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!f()) throw new Error("timed out waiting");
}

/** A round on every node, in id order. */
async function roundEverywhere(c: FakeCluster): Promise<RepairReport[]> {
  const out: RepairReport[] = [];
  for (const n of [...c.nodes.values()].sort((a, b) => (a.id < b.id ? -1 : 1))) {
    out.push(await n.ae.runRound());
  }
  return out;
}

let cluster: FakeCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

describe("anti-entropy rounds", () => {
  it("a replica that missed writes while down is identical to the others after one round", async () => {
    const c = new FakeCluster(["n1", "n2", "n3"]);
    cluster = c;
    for (let i = 0; i < 300; i++) c.write(`key-${i}`, `v${i}`);
    await c.start();
    // n3 is down; writes (new keys, overwrites, deletes) reach only n1 and n2.
    c.down.add("n3");
    for (let i = 0; i < 40; i++) c.write(`new-${i}`, "fresh");
    for (let i = 0; i < 20; i++) c.write(`key-${i}`, "changed");
    for (let i = 20; i < 30; i++) c.write(`key-${i}`, null);
    c.down.delete("n3");
    expect(c.divergentKeys()).toHaveLength(70);

    const r = await c.node("n3").ae.runRound();
    expect(r).toMatchObject({
      nodeId: "n3",
      rangesTotal: 1,
      rangesCompared: 1,
      peersCompared: 2,
      peersFailed: 0,
      done: true,
      failures: [],
    });
    // n3 differed from n1 in 70 keys and pulled them; n2 then already agreed with it.
    expect(r.keysDiffering).toBe(70);
    expect(r.keysRepaired).toBe(70);
    expect(c.divergentKeys()).toEqual([]);
    expect(c.node("n3").valuesOf("key-5")).toEqual(["changed"]);
    expect(c.node("n3").valuesOf("key-25")).toEqual([]); // the tombstone arrived
    const digests = [...c.nodes.values()].map((n) => [...n.ae.digests().values()]);
    expect(digests[1]).toEqual(digests[0]);
    expect(digests[2]).toEqual(digests[0]);
    expect(digests[0]![0]!.count).toBe(340);

    // Nothing left to do: the next round only compares roots.
    const again = await c.node("n1").ae.runRound();
    expect(again).toMatchObject({ keysDiffering: 0, keysRepaired: 0 });
    expect(again.bytesExchanged).toBe(again.treeBytes);
    expect(again.treeBytes).toBeLessThan(100);
  });

  it("repairs both ways: each side learns what only the other had, and concurrent writes become siblings", async () => {
    const c = new FakeCluster(["a", "b"], 2);
    cluster = c;
    await c.start();
    c.write("only-a", "1", ["a"]);
    c.write("only-b", "2", ["b"]);
    c.write("both", "from-a", ["a"]);
    c.write("both", "from-b", ["b"]);
    const r = await c.node("a").ae.runRound();
    expect(r.keysRepaired).toBe(3);
    expect(c.divergentKeys()).toEqual([]);
    expect(c.node("b").valuesOf("only-a")).toEqual(["1"]);
    expect(c.node("a").valuesOf("only-b")).toEqual(["2"]);
    expect(c.node("a").valuesOf("both")?.sort()).toEqual(["from-a", "from-b"]);
  });

  it("with five nodes, each node repairs all of its replica groups", async () => {
    const c = new FakeCluster(["n1", "n2", "n3", "n4", "n5"]);
    cluster = c;
    for (let i = 0; i < 400; i++) c.write(`k${i}`, "v");
    await c.start();
    c.down.add("n2");
    for (let i = 0; i < 400; i += 3) c.write(`k${i}`, "after");
    c.down.delete("n2");
    const before = c.divergentKeys().length;
    expect(before).toBeGreaterThan(30);
    const r = await c.node("n2").ae.runRound();
    expect(r.rangesTotal).toBeGreaterThan(1);
    expect(r.peersCompared).toBe(r.rangesTotal * 2);
    expect(r.keysRepaired).toBe(before);
    expect(c.divergentKeys()).toEqual([]);
  });

  it("bytes exchanged grow with the difference, not with the data size", async () => {
    const rows: string[] = [];
    const measured = new Map<string, RepairReport>();
    for (const size of [2_000, 20_000]) {
      for (const missed of [10, 100]) {
        const c = new FakeCluster(["n1", "n2", "n3"]);
        for (let i = 0; i < size; i++) c.write(`user:${i}`, `value-${i}`);
        await c.start();
        c.down.add("n3");
        for (let j = 0; j < missed; j++) c.write(`user:${Math.floor((j * size) / missed)}`, "new");
        c.down.delete("n3");
        c.wireBytes = 0;
        const r = await c.node("n3").ae.runRound();
        expect(c.divergentKeys()).toEqual([]);
        measured.set(`${size}/${missed}`, r);
        rows.push(
          `| ${size} | ${missed} | ${r.keysDiffering} | ${r.treeBytes} | ${r.bytesExchanged - r.treeBytes} | ${r.bytesExchanged} | ${c.wireBytes} |`,
        );
        await c.stop();
      }
    }
    console.log(
      [
        "| keys | missed by n3 | differing (both peers) | tree bytes | repair bytes | total bytes | protobuf wire bytes |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ...rows,
      ].join("\n"),
    );
    const total = (k: string) => measured.get(k)!.bytesExchanged;
    // Ten times the difference costs several times the bytes...
    expect(total("2000/100")).toBeGreaterThan(4 * total("2000/10"));
    expect(total("20000/100")).toBeGreaterThan(4 * total("20000/10"));
    // ...ten times the data costs about one more level to descend (copying it: ten times).
    expect(total("20000/10")).toBeLessThan(2.5 * total("2000/10"));
    expect(total("20000/100")).toBeLessThan(2.5 * total("2000/100"));
  });

  it("a down peer is skipped and reported; the round goes on with the others", async () => {
    const c = new FakeCluster(["n1", "n2", "n3"]);
    cluster = c;
    await c.start();
    c.down.add("n2");
    c.write("k", "v", ["n1"]);
    const r = await c.node("n1").ae.runRound();
    expect(r).toMatchObject({
      peersCompared: 1,
      peersFailed: 1,
      failures: ["n2 (1 ranges): down"],
    });
    expect(c.node("n3").valuesOf("k")).toEqual(["v"]);
  });

  it("a peer whose ring differs refuses the exchange (FAILED_PRECONDITION)", async () => {
    const c = new FakeCluster(["n1", "n2", "n3"]);
    cluster = c;
    await c.start();
    const req = create(MerkleExchangeRequestSchema, {
      tree: { replicas: ["n1", "n2", "n9"], rangesDigest: new Uint8Array(16) },
      query: new Uint8Array([1]),
    });
    let caught: unknown;
    try {
      c.node("n1").ae.serveMerkleExchange(req);
    } catch (e) {
      caught = e;
    }
    expect(ConnectError.from(caught).code).toBe(Code.FailedPrecondition);
    expect((caught as Error).message).toMatch(/ring views differ/);
  });

  it("answers UNAVAILABLE until its trees are built, and keeps writes made meanwhile", async () => {
    const c = new FakeCluster(["n1", "n2"], 2);
    cluster = c;
    for (let i = 0; i < 3000; i++) c.write(`k${i}`, "v");
    const n1 = c.node("n1");
    n1.ae.start();
    expect(n1.ae.ready).toBe(false);
    let caught: unknown;
    try {
      n1.ae.serveMerkleExchange(create(MerkleExchangeRequestSchema, {}));
    } catch (e) {
      caught = e;
    }
    expect(ConnectError.from(caught).code).toBe(Code.Unavailable);
    // Writes while the scan runs (the scan yields between pages).
    c.write("during-build", "x", ["n1"]);
    c.write("k1", null, ["n1"]);
    await c.start();
    const tree = [...n1.ae.digests().values()][0]!;
    expect(tree.count).toBe(3001);
    const r = await n1.ae.runRound();
    expect(r.keysRepaired).toBe(2);
    expect(c.divergentKeys()).toEqual([]);
  });

  it("rebuilds its trees when the ring changes", async () => {
    const c = new FakeCluster(["n1", "n2", "n3"]);
    cluster = c;
    for (let i = 0; i < 500; i++) c.write(`k${i}`, "v");
    await c.start();
    expect([...c.node("n1").ae.digests().values()][0]!.count).toBe(500);
    c.add("n4").ae.start();
    const r = await c.node("n1").ae.runRound();
    // n1 now shares ranges with n4 too, in several groups, holding only keys it replicates.
    expect(r.rangesTotal).toBeGreaterThan(1);
    const counts = [...c.node("n1").ae.digests().values()].reduce((s, d) => s + d.count, 0);
    const replicated = [...Array(500).keys()].filter((i) => c.replicasOf(`k${i}`).includes("n1"));
    expect(counts).toBe(replicated.length);
  });
});

describe("tombstone GC", () => {
  function deletedCluster(): FakeCluster {
    const c = new FakeCluster(["n1", "n2", "n3"]);
    for (let i = 0; i < 50; i++) c.write(`k${i}`, "v");
    c.nowMs = T0 + 1000;
    for (let i = 0; i < 10; i++) c.write(`k${i}`, null);
    return c;
  }

  it("purges a tombstone every replica holds only after the grace period", async () => {
    const c = deletedCluster();
    cluster = c;
    await c.start();
    c.nowMs = T0 + 1000 + GRACE - 1;
    let r = await c.node("n1").ae.runRound();
    expect(r.tombstonesPurged).toBe(0);
    for (const n of c.nodes.values()) expect(n.data.size).toBe(50);

    c.nowMs = T0 + 1000 + GRACE;
    r = await c.node("n1").ae.runRound();
    expect(r.tombstonesPurged).toBe(10);
    for (const n of c.nodes.values()) {
      expect(n.data.size).toBe(40);
      expect(n.valuesOf("k3")).toBeUndefined();
      expect([...n.ae.digests().values()][0]!.count).toBe(40);
    }
    // The trees agree afterwards: nothing comes back.
    expect((await c.node("n2").ae.runRound()).keysDiffering).toBe(0);
  });

  it("never purges while a replica is down, even long after the grace period", async () => {
    const c = deletedCluster();
    cluster = c;
    await c.start();
    c.down.add("n3");
    c.nowMs = T0 + 10 * GRACE;
    for (const r of [await c.node("n1").ae.runRound(), await c.node("n2").ae.runRound()]) {
      expect(r.tombstonesPurged).toBe(0);
    }
    expect(c.calls.get("tombstonePurge") ?? 0).toBe(0);
    for (const id of ["n1", "n2"]) expect(c.node(id).data.size).toBe(50);
  });

  it("a replica that missed the delete gets the tombstone first: the old value never comes back", async () => {
    const c = new FakeCluster(["n1", "n2", "n3"]);
    cluster = c;
    c.write("gone", "old value");
    await c.start();
    c.down.add("n3");
    c.write("gone", null); // n3 missed it and still holds "old value"
    c.nowMs = T0 + 2 * GRACE;
    // While n3 is down nothing is purged anywhere.
    expect((await c.node("n1").ae.runRound()).tombstonesPurged).toBe(0);
    c.down.delete("n3");
    // n3 still has the value: n2's check must not confirm a purge before n3 has the tombstone.
    expect(c.node("n3").valuesOf("gone")).toEqual(["old value"]);
    const r = await c.node("n2").ae.runRound();
    // The round copies the tombstone to n3 first; then all three hold it and it is purged.
    expect(r.keysRepaired).toBe(1);
    expect(r.tombstonesPurged).toBe(1);
    for (const n of c.nodes.values()) expect(n.valuesOf("gone")).toBeUndefined();
    await roundEverywhere(c);
    for (const n of c.nodes.values()) expect(n.valuesOf("gone")).toBeUndefined();
  });

  it("a tombstone written after the trees were built is indexed whether or not its recorder passed the set", async () => {
    for (const passSet of [true, false]) {
      const c = new FakeCluster(["n1", "n2", "n3"]);
      cluster = c;
      for (const n of c.nodes.values()) n.passSet = passSet;
      for (let i = 0; i < 20; i++) c.write(`k${i}`, "v");
      await c.start();
      c.nowMs = T0 + 1000;
      for (let i = 0; i < 5; i++) c.write(`k${i}`, null);
      c.write("k5", null);
      c.write("k5", "back"); // a value again: not a tombstone any more
      c.nowMs = T0 + 1000 + GRACE - 1;
      expect((await c.node("n1").ae.runRound()).tombstonesPurged).toBe(0);
      c.nowMs = T0 + 1000 + GRACE;
      expect((await c.node("n1").ae.runRound()).tombstonesPurged).toBe(5);
      for (const n of c.nodes.values()) {
        expect(n.valuesOf("k0")).toBeUndefined();
        expect(n.valuesOf("k5")).toEqual(["back"]);
      }
      await c.stop();
    }
  });

  it("a replica whose clock lags does not confirm until the grace period passed by its clock", async () => {
    const c = deletedCluster();
    cluster = c;
    await c.start();
    c.node("n3").clockOffsetMs = -30_000;
    c.nowMs = T0 + 1000 + GRACE + 10_000;
    expect((await c.node("n1").ae.runRound()).tombstonesPurged).toBe(0);
    c.nowMs = T0 + 1000 + GRACE + 30_000;
    expect((await c.node("n1").ae.runRound()).tombstonesPurged).toBe(10);
  });

  it("a write that races with the purge keeps the key, and the next round spreads it", async () => {
    const c = deletedCluster();
    cluster = c;
    await c.start();
    c.nowMs = T0 + 1000 + GRACE;
    // Between the check and the purge, a client writes k0 again and only n2 has it so far.
    c.node("n2").beforeServe.tombstonePurge = () => {
      c.node("n2").beforeServe = {};
      c.write("k0", "reborn", ["n2"]);
    };
    const r = await c.node("n1").ae.runRound();
    expect(r.tombstonesPurged).toBe(10);
    expect(c.node("n2").valuesOf("k0")).toEqual(["reborn"]);
    await c.node("n1").ae.runRound();
    for (const n of c.nodes.values()) expect(n.valuesOf("k0")).toEqual(["reborn"]);
  });

  it("keeps tombstones while ranges are moving", async () => {
    const c = deletedCluster();
    cluster = c;
    await c.start();
    c.stable = false;
    c.nowMs = T0 + 2 * GRACE;
    expect((await c.node("n1").ae.runRound()).tombstonesPurged).toBe(0);
    c.stable = true;
    expect((await c.node("n1").ae.runRound()).tombstonesPurged).toBe(10);
  });
});

describe("Repair", () => {
  it("streams progress of a round on this node, ending with done", async () => {
    const c = new FakeCluster(["n1", "n2", "n3", "n4"]);
    cluster = c;
    for (let i = 0; i < 100; i++) c.write(`k${i}`, "v");
    await c.start();
    c.down.add("n1");
    for (let i = 0; i < 100; i += 5) c.write(`k${i}`, "w");
    c.down.delete("n1");
    const messages = [];
    for await (const m of c.node("n1").ae.repair({ nodeId: "" }, new AbortController().signal)) {
      messages.push(create(RepairResponseSchema, m));
    }
    const last = messages[messages.length - 1]!;
    expect(messages.length).toBeGreaterThan(2);
    expect(messages.slice(0, -1).every((m) => !m.done)).toBe(true);
    expect(last).toMatchObject({ nodeId: "n1", done: true, peersFailed: 0 });
    expect(last.rangesCompared).toBe(last.rangesTotal);
    expect(Number(last.keysRepaired)).toBeGreaterThan(0);
    expect(Number(last.bytesExchanged)).toBeGreaterThan(Number(last.treeBytes));
    expect(c.divergentKeys()).toEqual([]);
  });

  it("runs the round on another node through the peer channel", async () => {
    const c = new FakeCluster(["n1", "n2", "n3"]);
    cluster = c;
    await c.start();
    c.write("x", "1", ["n3"]);
    const messages = [];
    for await (const m of c.node("n1").ae.repair({ nodeId: "n3" }, new AbortController().signal)) {
      messages.push(m);
    }
    expect(messages).toHaveLength(1);
    // n3 pushed the key to each of the two others.
    expect(messages[0]).toMatchObject({ nodeId: "n3", done: true, keysRepaired: 2n });
    expect(c.calls.get("repair")).toBe(1);
    expect(c.divergentKeys()).toEqual([]);
  });

  it("a client that goes away stops the stream, not the round", async () => {
    const c = new FakeCluster(["n1", "n2", "n3"]);
    cluster = c;
    for (let i = 0; i < 200; i++) c.write(`k${i}`, "v");
    await c.start();
    c.down.add("n1");
    for (let i = 0; i < 200; i += 2) c.write(`k${i}`, "w");
    c.down.delete("n1");
    const ac = new AbortController();
    const stream = c.node("n1").ae.repair({ nodeId: "" }, ac.signal);
    expect((await stream.next()).value).toMatchObject({ done: false });
    ac.abort(new Error("client left"));
    await expect(stream.next()).rejects.toThrow("client left");
    await waitUntil(() => c.node("n1").ae.lastRound !== undefined);
    expect(c.node("n1").ae.lastRound).toMatchObject({ done: true, keysRepaired: 100 });
    expect(c.divergentKeys()).toEqual([]);
  });

  it("refuses a node that is not a live member", async () => {
    const c = new FakeCluster(["n1", "n2"], 2);
    cluster = c;
    await c.start();
    const it = c.node("n1").ae.repair({ nodeId: "nope" }, new AbortController().signal);
    await expect(it.next()).rejects.toThrow(/not a live member/);
  });
});
