// Run from packages/gossip: npx tsx examples/quick-start.ts
// (The README shows this file with `from "@distkv/gossip"` and `from "@distkv/gossip/testing"`.)
import { Gossip } from "../src/index.js";
import { SimNetwork } from "../src/testing/index.js";

// A simulated network: 1% datagram loss, 1-10 ms delays, simulated time, one seed.
const net = new SimNetwork({
  seed: 42,
  link: { lossProbability: 0.01, minDelayMs: 1, maxDelayMs: 10 },
});
const t = () => `${(net.elapsedMs / 1000).toFixed(2)}s`;

function node(id: string, virtualNodes: number): Gossip {
  const address = `${id}.local:7946`;
  const g = new Gossip({
    id,
    address,
    transport: net.transportFor(address), // the server passes its peer-channel transport
    clock: net.clockFor(address), // the default is the real clock
    random: net.randomFor(id), // the default is Math.random
    metadata: new TextEncoder().encode(JSON.stringify({ virtualNodes })),
    config: { preset: "lan" },
  });
  g.start();
  return g;
}

const a = node("a", 150);
a.subscribe((e) =>
  console.log(
    `${t()} a sees ${e.type} ${e.member.id} (${e.member.status}, incarnation +${e.member.incarnation - 1_700_000_000_000})`,
  ),
);

const others = ["b", "c", "d", "e"].map((id) => node(id, 150));
for (const g of others)
  g.join([a.address]).then((n) => console.log(`${t()} ${g.id} joined through ${n} seed`));
await net.runFor(2000);
console.log(
  "a's view:",
  a
    .members()
    .map((m) => `${m.id}=${m.status}`)
    .join(" "),
  "| c's metadata as a sees it:",
  new TextDecoder().decode(a.member("c")!.metadata),
);

// c changes its metadata (a new incarnation); b is killed; d leaves gracefully.
others[1]!.setMetadata(new TextEncoder().encode(JSON.stringify({ virtualNodes: 300 })));
net.crash(others[0]!.address);
others[2]!.leave().then((ok) => {
  console.log(`${t()} d's leave went out to enough members: ${ok}; d stops`);
  others[2]!.stop();
});
await net.runFor(30_000);
console.log(
  "a's view:",
  a
    .members()
    .map((m) => `${m.id}=${m.status}`)
    .join(" "),
);
console.log("a's stats:", a.stats());
