import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bytes, sha256Token, treeOf } from "../test/support.js";
import {
  entryDigest,
  isInvalidMerkleArgumentError,
  isInvalidMerkleOptionsError,
  isMerkleProtocolError,
  isMerkleShapeMismatchError,
  MerkleTree,
  parseNodes,
} from "./index.js";
import { encodeRequest, QueryKind } from "./wire.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("MerkleTree: entries", () => {
  it("sets, gets, updates and deletes entries", () => {
    const t = new MerkleTree({ tokenOf: sha256Token });
    expect(t.size).toBe(0);
    expect(t.root()).toEqual({ count: 0, hash: new Uint8Array(16) });
    t.set(bytes("a"), bytes("v1"));
    t.set(bytes("b"), bytes("v1"));
    expect(t.size).toBe(2);
    expect(t.get(bytes("a"))).toEqual(entryDigest(bytes("a"), bytes("v1")));
    expect(t.has(bytes("c"))).toBe(false);
    const before = hex(t.root().hash);
    t.set(bytes("a"), bytes("v2"));
    expect(t.size).toBe(2);
    expect(hex(t.root().hash)).not.toBe(before);
    t.set(bytes("a"), bytes("v1"));
    expect(hex(t.root().hash)).toBe(before);
    expect(t.delete(bytes("a"))).toBe(true);
    expect(t.delete(bytes("a"))).toBe(false);
    expect(t.size).toBe(1);
    expect(t.delete(bytes("b"))).toBe(true);
    expect(t.root()).toEqual({ count: 0, hash: new Uint8Array(16) });
  });

  it("the digest covers the key: the same version under two keys differs", () => {
    expect(hex(entryDigest(bytes("a"), bytes("v")))).not.toBe(
      hex(entryDigest(bytes("b"), bytes("v"))),
    );
    // The key length is part of the digest: ("ab", "c") is not ("a", "bc").
    expect(hex(entryDigest(bytes("ab"), bytes("c")))).not.toBe(
      hex(entryDigest(bytes("a"), bytes("bc"))),
    );
  });

  it("the root depends on the set of entries only, not on the order of writes (property)", () => {
    const entry = fc.tuple(fc.string({ maxLength: 6 }), fc.string({ maxLength: 4 }));
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 60 }), fc.integer(), (writes, seed) => {
        const final = new Map(writes);
        const a = treeOf(final, { fanout: 4, depth: 2 });
        // Replay every write (later ones overwrite) in a shuffled order, with some deletes.
        const b = new MerkleTree({ tokenOf: sha256Token, fanout: 4, depth: 2 });
        const shuffled = fc.sample(fc.shuffledSubarray(writes, { minLength: writes.length }), {
          seed,
          numRuns: 1,
        })[0]!;
        for (const [k, v] of shuffled) {
          b.set(bytes(k), bytes(`${v}x`));
          b.root(); // interleave reads with writes: lazy rehashing must stay right
          if (k.length % 2 === 0) b.delete(bytes(k));
        }
        for (const [k, v] of final) b.set(bytes(k), bytes(v));
        expect(b.size).toBe(final.size);
        expect(hex(b.root().hash)).toBe(hex(a.root().hash));
        expect(b.serializeLevel(2)).toEqual(a.serializeLevel(2));
      }),
    );
  });

  it("setDigest with entryDigest equals set", () => {
    const a = new MerkleTree({ tokenOf: sha256Token });
    const b = new MerkleTree({ tokenOf: sha256Token });
    a.set(bytes("k"), bytes("v"));
    b.setDigest(bytes("k"), entryDigest(bytes("k"), bytes("v")));
    expect(hex(b.root().hash)).toBe(hex(a.root().hash));
    expect(() => b.setDigest(bytes("k"), new Uint8Array(15))).toThrow(/16 bytes/);
  });

  it("rebuild from an async scan equals incremental inserts, and entries() lists them", async () => {
    const data = Array.from({ length: 500 }, (_, i) => [`key-${i}`, `v${i % 7}`] as const);
    const incremental = treeOf(data);
    const rebuilt = new MerkleTree({ tokenOf: sha256Token });
    rebuilt.set(bytes("stale"), bytes("x"));
    async function* scan() {
      for (const [k, v] of data) yield { key: bytes(k), version: bytes(v) };
    }
    expect(await rebuilt.rebuild(scan())).toBe(500);
    expect(hex(rebuilt.root().hash)).toBe(hex(incremental.root().hash));
    const listed = [...rebuilt.entries()].map((e) => Buffer.from(e.key).toString()).sort();
    expect(listed).toEqual(data.map(([k]) => k).sort());
    rebuilt.clear();
    expect(rebuilt.size).toBe(0);
    expect(rebuilt.root().count).toBe(0);
  });

  it("rebuild stops when its signal aborts", async () => {
    const t = new MerkleTree({ tokenOf: sha256Token });
    const ac = new AbortController();
    ac.abort(new Error("stop"));
    await expect(t.rebuild([{ key: bytes("a"), version: bytes("v") }], ac)).rejects.toThrow("stop");
  });
});

describe("MerkleTree: nodes", () => {
  const data = Array.from({ length: 300 }, (_, i) => [`k${i}`, "v"] as const);

  it("counts and hashes add up level by level, including split levels below the leaves", () => {
    const t = treeOf(data, { fanout: 4, depth: 2 });
    const { fanout, maxLevel } = t.options;
    expect(maxLevel).toBe(26); // 4^26 = 2^52 nodes
    for (let level = 0; level < 5; level++) {
      const nodes = Math.min(fanout ** level, 64);
      for (let i = 0; i < nodes; i++) {
        const parent = t.node(level, i);
        let sum = 0;
        for (let j = 0; j < fanout; j++) sum += t.node(level + 1, i * fanout + j).count;
        expect(sum).toBe(parent.count);
      }
    }
    // A leaf's hash is the XOR of its entries' digests; a split of it XORs back to it.
    const leaf = t.node(2, 5);
    const x = new Uint8Array(16);
    for (let j = 0; j < fanout; j++) {
      const child = t.node(3, 5 * fanout + j).hash;
      for (let b = 0; b < 16; b++) x[b]! ^= child[b]!;
    }
    expect(hex(x)).toBe(hex(leaf.hash));
  });

  it("serializeLevel / parseNodes round-trip and cover every entry", () => {
    const t = treeOf(data, { fanout: 16, depth: 2 });
    const nodes = parseNodes(t.serializeLevel(2), 256);
    expect(nodes.reduce((s, n) => s + n.count, 0)).toBe(300);
    expect(nodes[7]).toEqual(t.node(2, 7));
    expect(parseNodes(t.serializeNodes(0, [0]), 1)).toEqual([t.root()]);
    // Empty nodes take one byte.
    expect(new MerkleTree({ tokenOf: sha256Token }).serializeLevel(1)).toEqual(new Uint8Array(16));
    expect(() => t.serializeLevel(3)).toThrow(/stored level/);
    expect(() => parseNodes(new Uint8Array([1, 2]), 1)).toThrow(/truncated/);
  });

  it("rejects nodes that do not exist", () => {
    const t = treeOf([], { fanout: 2, depth: 1 });
    expect(() => t.node(0, 1)).toThrow(/index at level 0/);
    expect(() => t.node(-1, 0)).toThrow(/level must be/);
    expect(() => t.node(t.options.maxLevel + 1, 0)).toThrow(/level must be/);
  });
});

describe("MerkleTree: ranges", () => {
  it("keys outside a partial range are rejected; a wrapping range maps tokens in order", () => {
    const token = (key: Uint8Array) => BigInt(Buffer.from(key).toString());
    const half = 1n << 63n;
    // (2^63, 2^6]: wraps past 2^64 - 1.
    const t = new MerkleTree({
      tokenOf: token,
      range: { start: half, end: 64n },
      fanout: 2,
      depth: 3,
    });
    expect(() => t.set(bytes("5"), bytes("v"))).not.toThrow();
    expect(() => t.set(bytes(String(half)), bytes("v"))).toThrow(/outside the tree's range/);
    expect(() => t.set(bytes("65"), bytes("v"))).toThrow(/outside the tree's range/);
    expect(t.leafOf(bytes(String(half + 1n)))).toBe(0);
    expect(t.leafOf(bytes("64"))).toBe(7);
    // Nearly all of the range lies before the wrap, so both sides of it are in the last leaf.
    expect(t.leafOf(bytes(String((1n << 64n) - 1n)))).toBe(7);
    expect(t.leafOf(bytes("0"))).toBe(7);
    expect(t.leafOf(bytes(String(3n << 62n)))).toBe(3);
    const bad = new MerkleTree({ tokenOf: () => -1n });
    expect(() => bad.set(bytes("k"), bytes("v"))).toThrow(/not a bigint in \[0, 2\^64\)/);
  });

  it("validates options", () => {
    for (const [options, message] of [
      [{}, /tokenOf must be a function/],
      [{ tokenOf: sha256Token, fanout: 3 }, /power of two/],
      [{ tokenOf: sha256Token, fanout: 512 }, /power of two/],
      [{ tokenOf: sha256Token, depth: 0 }, /depth must be/],
      [{ tokenOf: sha256Token, depth: 6 }, /MAX_LEAVES/],
      [{ tokenOf: sha256Token, colour: "red" }, /unknown option "colour"/],
      [{ tokenOf: sha256Token, range: { start: 0n, end: 10n } }, /fewer than the 4096 leaves/],
      [{ tokenOf: sha256Token, range: { start: -1n, end: 10n } }, /range must be/],
    ] as const) {
      let caught: unknown;
      try {
        new MerkleTree(options as never);
      } catch (e) {
        caught = e;
      }
      expect(isInvalidMerkleOptionsError(caught), String(message)).toBe(true);
      expect((caught as Error).message).toMatch(message);
    }
  });

  it("rejects arguments that are not bytes", () => {
    const t = new MerkleTree({ tokenOf: sha256Token });
    let caught: unknown;
    try {
      t.set("k" as never, bytes("v"));
    } catch (e) {
      caught = e;
    }
    expect(isInvalidMerkleArgumentError(caught)).toBe(true);
  });
});

describe("MerkleTree.answer", () => {
  const t = treeOf([["a", "1"]], { fanout: 4, depth: 2 });

  it("refuses a tree of another shape", () => {
    const other = new MerkleTree({ tokenOf: sha256Token, fanout: 4, depth: 3 });
    let caught: unknown;
    try {
      t.answer(encodeRequest(other.shapeId, [{ kind: QueryKind.Nodes, level: 0, indexes: [0] }]));
    } catch (e) {
      caught = e;
    }
    expect(isMerkleShapeMismatchError(caught)).toBe(true);
  });

  it("refuses malformed or impossible requests", () => {
    const cases: Array<[Uint8Array, RegExp]> = [
      [new Uint8Array([9]), /unknown format/],
      [encodeRequest(t.shapeId, [{ kind: QueryKind.Nodes, level: 1, indexes: [4] }]), /index 4/],
      [
        encodeRequest(t.shapeId, [
          { kind: QueryKind.Children, level: t.options.maxLevel, indexes: [0] },
        ]),
        /deepest level/,
      ],
      [
        encodeRequest(t.shapeId, [{ kind: QueryKind.Children, level: 8, indexes: [0, 1] }]).slice(
          0,
          -1,
        ),
        /truncated/,
      ],
    ];
    for (const [request, message] of cases) {
      let caught: unknown;
      try {
        t.answer(request);
      } catch (e) {
        caught = e;
      }
      expect(isMerkleProtocolError(caught), String(message)).toBe(true);
      expect((caught as Error).message).toMatch(message);
    }
  });
});
