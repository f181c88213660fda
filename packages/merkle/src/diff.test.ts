import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bytes, expectedDifferences, sha256Token, text, treeOf } from "../test/support.js";
import {
  diffTrees,
  entryDigest,
  inProcessRemote,
  isMerkleProtocolError,
  isMerkleShapeMismatchError,
  MerkleTree,
  type MerkleTreeOptions,
  type RemoteTree,
  type TreeDiff,
} from "./index.js";

const differingKeys = (d: TreeDiff) => d.differences.map((x) => text(x.key)).sort();

/** Two replicas' data: a common base, then independent writes and deletes on each side. */
const replicaPair = fc
  .record({
    base: fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 3 }), {
      maxKeys: 200,
    }),
    left: fc.array(fc.tuple(fc.string({ maxLength: 8 }), fc.option(fc.string({ maxLength: 3 }))), {
      maxLength: 30,
    }),
    right: fc.array(fc.tuple(fc.string({ maxLength: 8 }), fc.option(fc.string({ maxLength: 3 }))), {
      maxLength: 30,
    }),
  })
  .map(({ base, left, right }) => {
    const apply = (writes: ReadonlyArray<readonly [string, string | null]>) => {
      const m = new Map(Object.entries(base));
      for (const [k, v] of writes) {
        if (v === null) m.delete(k);
        else m.set(k, v);
      }
      return m;
    };
    return { a: apply(left), b: apply(right) };
  });

/** Tree shapes from tiny (which forces splits below the leaves) to the default. */
const shapes: Array<Partial<MerkleTreeOptions>> = [
  { fanout: 2, depth: 1 },
  { fanout: 4, depth: 2 },
  { fanout: 16, depth: 3 },
  { fanout: 256, depth: 1 },
];

describe("diffTrees finds exactly the keys held differently (property)", () => {
  for (const shape of shapes) {
    it(`fanout ${shape.fanout}, depth ${shape.depth}`, async () => {
      await fc.assert(
        fc.asyncProperty(
          replicaPair,
          fc.integer({ min: 1, max: 20 }),
          fc.integer({ min: 1, max: 50 }),
          fc.integer({ min: 1, max: 4096 }),
          fc.integer({ min: 1, max: 300 }),
          async ({ a, b }, fetchThreshold, bulkFetchLimit, maxReplyBytes, maxRequestNodes) => {
            const left = treeOf(a, shape);
            const right = treeOf(b, shape);
            const d = await diffTrees(left, inProcessRemote(right, { maxReplyBytes }), {
              fetchThreshold,
              bulkFetchLimit,
              maxRequestNodes,
            });
            const expected = expectedDifferences(a, b);
            expect(differingKeys(d)).toEqual(expected);
            // Each difference carries both sides' digests as they are.
            for (const x of d.differences) {
              const k = text(x.key);
              const dig = (v: string | undefined) =>
                v === undefined ? undefined : entryDigest(x.key, bytes(v));
              expect(x.local).toEqual(dig(a.get(k)));
              expect(x.remote).toEqual(dig(b.get(k)));
            }
            if (expected.length === 0) expect(d.roundTrips).toBe(1);
          },
        ),
        { numRuns: 60 },
      );
    });
  }

  it("when many keys share one token, the deepest level fetches them all", async () => {
    // Every key hashes to one of three tokens: no split can separate keys of one token.
    const token = (k: Uint8Array) => BigInt(k.length % 3) << 62n;
    await fc.assert(
      fc.asyncProperty(replicaPair, async ({ a, b }) => {
        const opts = { tokenOf: token, fanout: 16, depth: 1 } as const;
        const d = await diffTrees(treeOf(a, opts), inProcessRemote(treeOf(b, opts)), {
          fetchThreshold: 1,
          bulkFetchLimit: 1,
        });
        expect(differingKeys(d)).toEqual(expectedDifferences(a, b));
      }),
      { numRuns: 40 },
    );
  });
});

describe("diffTrees: costs", () => {
  const data = new Map<string, string>(
    Array.from({ length: 5000 }, (_, i) => [`key-${i}`, "v1"] as const),
  );

  it("identical trees: one round trip of a few bytes", async () => {
    const d = await diffTrees(treeOf(data), inProcessRemote(treeOf(data)));
    expect(d.differences).toEqual([]);
    expect(d.roundTrips).toBe(1);
    expect(d.bytesSent + d.bytesReceived).toBeLessThan(40);
  });

  it("one differing key costs a descent, not the data", async () => {
    const changed = new Map(data).set("key-77", "v2");
    const d = await diffTrees(treeOf(data), inProcessRemote(treeOf(changed)));
    expect(differingKeys(d)).toEqual(["key-77"]);
    // root, 3 stored levels of 16 children, then one leaf's entries
    expect(d.roundTrips).toBe(5);
    expect(d.entriesReceived).toBeLessThanOrEqual(8);
    expect(d.bytesReceived).toBeLessThan(2000);
  });

  it("an empty replica fetches segments in bulk rather than descending to every key", async () => {
    const d = await diffTrees(treeOf([]), inProcessRemote(treeOf(data)), { bulkFetchLimit: 1024 });
    expect(d.differences).toHaveLength(5000);
    expect(d.entriesReceived).toBe(5000);
    // 5000 entries fit no single bulk fetch: the root splits once, then 16 fetches in one trip.
    expect(d.roundTrips).toBe(3);
  });
});

describe("diffTrees: failures", () => {
  it("trees of different shapes refuse to compare", async () => {
    const a = treeOf([["k", "v"]], { fanout: 16 });
    const b = treeOf([["k", "v"]], { fanout: 8 });
    let caught: unknown;
    try {
      await diffTrees(a, inProcessRemote(b));
    } catch (e) {
      caught = e;
    }
    expect(isMerkleShapeMismatchError(caught)).toBe(true);
  });

  it("a reply that is not one is a protocol error", async () => {
    const garbage: RemoteTree = { exchange: async () => Uint8Array.of(1, 1, 3) };
    let caught: unknown;
    try {
      await diffTrees(treeOf([]), garbage);
    } catch (e) {
      caught = e;
    }
    expect(isMerkleProtocolError(caught)).toBe(true);
  });

  it("a reply listing a key twice is a protocol error", async () => {
    const remote = treeOf([["x", "1"]]);
    const duplicating: RemoteTree = {
      exchange: async (req) => {
        const reply = remote.answer(req);
        // The second trip fetches entries: [format, 1 query, 1 segment, 1 entry, ...entry]
        if (reply.length > 20 && reply[2] === 1 && reply[3] === 1) {
          const entry = reply.subarray(4);
          return Uint8Array.of(reply[0]!, 1, 1, 2, ...entry, ...entry);
        }
        return reply;
      },
    };
    await expect(diffTrees(treeOf([]), duplicating)).rejects.toThrow(/same key twice/);
  });

  it("stops between round trips when the signal aborts, passing it to the transport", async () => {
    const ac = new AbortController();
    const right = treeOf([["k", "v"]]);
    let signals = 0;
    const remote: RemoteTree = {
      exchange: async (req, signal) => {
        if (signal === ac.signal) signals++;
        ac.abort(new Error("enough"));
        return right.answer(req);
      },
    };
    await expect(diffTrees(treeOf([]), remote, { signal: ac.signal })).rejects.toThrow("enough");
    expect(signals).toBe(1);
  });

  it("validates its options", async () => {
    const t = new MerkleTree({ tokenOf: sha256Token });
    await expect(diffTrees(t, inProcessRemote(t), { fetchThreshold: 0 })).rejects.toThrow(
      /fetchThreshold must be an integer >= 1/,
    );
    await expect(diffTrees(t, inProcessRemote(t), { maxRequestNodes: 100_000 })).rejects.toThrow(
      /maxRequestNodes must be at most 65536/,
    );
  });
});
