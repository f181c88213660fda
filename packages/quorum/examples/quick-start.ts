// A five-node cluster in one process (N = 3, R = W = 2): writes, reads, a conflict and its
// resolution, a failure with a sloppy quorum, and hinted handoff when the node returns.
// Run from packages/quorum: npx tsx examples/quick-start.ts
import { isUnavailableError } from "../src/index.js";
import { InMemoryCluster } from "../src/testing/index.js";

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

const cluster = new InMemoryCluster({ nodes: 5 }); // node-1 ... node-5, real clock
cluster.start(); // hinted handoff: deliver hints when an owner comes back

const key = "user:42";
const [first, second, third] = cluster.preferenceList(key) as [string, string, string];
console.log("replicas:", [first, second, third], "coordinator:", cluster.coordinatorFor(key));

// A write answers after W = 2 acknowledgements; any node can serve the read.
const put = await cluster.put(key, utf8("alice"));
console.log("put acked by", put.replicasAcked, "version", put.version);
const got = await cluster.node("node-5").coordinator.get(key);
console.log(
  "get:",
  got.siblings.map((s) => text(s.value)),
  "answered by",
  got.replicasAnswered,
);

// Two replicas coordinate writes at the same time, each without the other's: siblings.
await Promise.all([
  cluster.node(first).coordinator.put(key, utf8("alice@home")),
  cluster.node(second).coordinator.put(key, utf8("alice@work")),
]);
await cluster.settle();
const conflict = await cluster.get(key, { consistency: "all" });
console.log(
  "siblings:",
  conflict.siblings.map((s) => text(s.value)),
);
// The reader resolves them by writing back with the context it got.
await cluster.put(key, utf8("alice@both"), { context: conflict.context });
console.log(
  "resolved:",
  (await cluster.get(key)).siblings.map((s) => text(s.value)),
);

// A replica goes down: quorum still works (a substitute keeps a hint), `all` cannot.
cluster.crash(third);
const sloppy = await cluster.put(key, utf8("alice v2"));
console.log("with", third, "down: acked", sloppy.replicasAcked);
try {
  await cluster.get(key, { consistency: "all" });
} catch (e) {
  if (!isUnavailableError(e)) throw e;
  console.log("all:", e.message);
}
await cluster.settle();
const holder = cluster.nodes().find((n) => n.hints.size > 0)!;
console.log("hint held by", holder.id, "for", holder.hints.all()[0]!.targetNodeId);

// It comes back: the hint is handed off, and `all` succeeds.
cluster.recover(third);
await cluster.settle();
const back = cluster.node(third).store.peek(key)!;
console.log(
  third,
  "now stores:",
  back.siblings.map((s) => text(s.value!)),
);
console.log(
  "all:",
  (await cluster.get(key, { consistency: "all" })).siblings.map((s) => text(s.value)),
);
console.log("stats of", holder.id, JSON.stringify(holder.coordinator.stats().hints));
await cluster.stop();
