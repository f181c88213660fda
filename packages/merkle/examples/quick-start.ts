/**
 * Two replicas of a key range, one of which missed some writes: build a tree on each, compare
 * them over an async channel, and learn exactly which keys to repair, and what it cost.
 * Run from packages/merkle: npx tsx examples/quick-start.ts
 */
import { hash } from "node:crypto";
import { diffTrees, MerkleTree, type RemoteTree } from "../src/index.js";

// Where a key sits on the ring. DistKV passes tokenOf from @distkv/ring; any stable 64-bit
// hash works, as long as both sides use the same.
const tokenOf = (key: Uint8Array) => hash("sha256", key, "buffer").readBigUInt64BE(0);
const utf8 = new TextEncoder();
const text = (b: Uint8Array) => new TextDecoder().decode(b);

const alice = new MerkleTree({ tokenOf }); // whole ring, 16 x 16 x 16 leaves
const bob = new MerkleTree({ tokenOf });
for (let i = 0; i < 100_000; i++) {
  const key = utf8.encode(`user:${i}`);
  alice.set(key, utf8.encode("v1")); // the version: DistKV uses the encoded sibling set
  bob.set(key, utf8.encode("v1"));
}
bob.set(utf8.encode("user:42"), utf8.encode("v2")); // a write alice missed
bob.delete(utf8.encode("user:7")); // a key bob lacks
alice.set(utf8.encode("user:new"), utf8.encode("v1")); // and one only alice has

// The remote side as an async channel: here a function call, in DistKV a peer RPC whose
// request and reply are these bytes.
const remote: RemoteTree = { exchange: async (request) => bob.answer(request) };

const d = await diffTrees(alice, remote);
d.differences.sort((a, b) => Buffer.compare(a.key, b.key));
for (const x of d.differences) {
  const side =
    x.local === undefined
      ? "only bob"
      : x.remote === undefined
        ? "only alice"
        : "both, differently";
  console.log(`${text(x.key)}: ${side}`);
}
console.log(
  `${alice.size} and ${bob.size} keys; ${d.bytesSent} bytes sent, ${d.bytesReceived} received, ${d.roundTrips} round trips`,
);
