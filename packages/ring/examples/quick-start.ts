// Run from packages/ring: npx tsx examples/quick-start.ts
// (The README shows this file with `from "@distkv/ring"`.)
import { HashRing, rangeContains, tokenOf } from "../src/index.js";

const ring = new HashRing(); // 150 virtual nodes per node
for (const id of ["node-a", "node-b", "node-c", "node-d"]) ring.addNode(id);

// The key's replicas, coordinator first. Keys are bytes; strings hash as UTF-8.
console.log("replicas:", ring.preferenceList("user:42", 3));

// Sloppy quorum: leave out nodes gossip reports down; the next ones on the ring move up.
const down = new Set(["node-a"]);
console.log("healthy:", ring.preferenceList("user:42", 3, { skip: (id) => down.has(id) }));
console.log("ring order:", [...ring.walk("user:42")]);

// A fifth node joins: the ranges it must stream in, as one of 3 replicas.
const next = ring.clone();
next.addNode("node-e");
const ranges = next.rangesFor("node-e", 3);
const t = tokenOf("user:42");
console.log(
  `node-e replicates ${ranges.length} ranges; user:42 among them:`,
  ranges.some((r) => rangeContains(r, t)),
);
console.log("node-e share as primary:", next.ownership().get("node-e")?.toFixed(3));

// Gossip: serialise the membership and rebuild an equal ring elsewhere.
const wire = JSON.stringify(next.toJSON());
const copy = HashRing.fromJSON(JSON.parse(wire));
console.log(
  "same answer after round-trip:",
  copy.preferenceList("user:42", 3).join() === next.preferenceList("user:42", 3).join(),
);
console.log("state:", wire);
