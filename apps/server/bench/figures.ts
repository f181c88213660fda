// The figures apps/server/README.md reports, measured in one run on this machine:
//   1. one node (N=1), one request in flight: put and get p50/p99 through the unary client the
//      CLI uses (createDistKVClient) and through the pipelined client (createPipelinedClient);
//   2. three nodes (N=3, R=2, W=2), 64 requests in flight through the pipelined client spread
//      over the nodes: quorum puts/s and gets/s.
// Run: pnpm --filter @distkv/server bench   (after pnpm build; takes about a minute)
import { createDistKVClient, createPipelinedClient, NodeState } from "@distkv/rpc";
import { build } from "hdr-histogram-js";
import { ClusterHarness, eventually } from "../test/harness.js";

const SECONDS = Number(process.env.FIGURES_SECONDS ?? 5);
const value = new Uint8Array(100).fill(7);

interface Row {
  setup: string;
  client: string;
  op: string;
  inFlight: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

async function drive(
  inFlight: number,
  op: (i: number, worker: number) => Promise<unknown>,
): Promise<Omit<Row, "setup" | "client" | "op" | "inFlight">> {
  const h = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
  let next = 0;
  let errors = 0;
  const t0 = performance.now();
  const until = t0 + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: inFlight }, async (_, w) => {
      while (performance.now() < until) {
        const s = performance.now();
        try {
          await op(next++, w);
        } catch {
          errors++;
        }
        h.recordValue(Math.max(1, Math.round((performance.now() - s) * 1000)));
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  return {
    opsPerSec: Math.round(h.totalCount / secs),
    p50Ms: h.getValueAtPercentile(50) / 1000,
    p99Ms: h.getValueAtPercentile(99) / 1000,
    errors,
  };
}

const rows: Row[] = [];
const harness = new ClusterHarness();
try {
  // 1. One node, one request in flight.
  const single = await harness.start("solo", {
    extra: ["-replicas=1", "-read-quorum=1", "-write-quorum=1"],
  });
  const unary = createDistKVClient({ baseUrl: single.address });
  const piped = createPipelinedClient({ baseUrl: single.address });
  const enc = new TextEncoder();
  for (const [client, put, get] of [
    [
      "unary (CLI)",
      (i: number) => unary.kv.put({ key: enc.encode(`u${i}`), value }),
      (i: number) => unary.kv.get({ key: enc.encode(`u${i % 1000}`) }),
    ],
    [
      "pipelined",
      (i: number) => piped.put(`p${i}`, value),
      (i: number) => piped.get(`p${i % 1000}`),
    ],
  ] as const) {
    rows.push({ setup: "1 node, N=1", client, op: "put", inFlight: 1, ...(await drive(1, put)) });
    rows.push({ setup: "1 node, N=1", client, op: "get", inFlight: 1, ...(await drive(1, get)) });
  }
  unary.close();
  await piped.close();
  await harness.kill("solo", "SIGTERM");

  // 2. Three nodes, N=3 R=2 W=2, 64 in flight spread over the nodes.
  const first = await harness.start("node1");
  await harness.start("node2", { seeds: [first.address] });
  await harness.start("node3", { seeds: [first.address] });
  for (const id of ["node1", "node2", "node3"]) {
    const c = harness.client(id);
    // Alive and on the ring: a node still joining counts as alive but takes no writes yet.
    await eventually(
      async () =>
        (await c.cluster.status({})).nodes.filter((n) => n.state === NodeState.ALIVE).length === 3,
    );
  }
  const clients = ["node1", "node2", "node3"].map((id) =>
    createPipelinedClient({ baseUrl: harness.nodes.get(id)!.address }),
  );
  let written = 0;
  const put = await drive(64, (i, w) => {
    written = Math.max(written, i + 1);
    return clients[w % 3]!.put(`k${i}`, value);
  });
  rows.push({
    setup: "3 nodes, N=3 R=2 W=2",
    client: "pipelined",
    op: "put",
    inFlight: 64,
    ...put,
  });
  const get = await drive(64, (i, w) => clients[w % 3]!.get(`k${i % written}`));
  rows.push({
    setup: "3 nodes, N=3 R=2 W=2",
    client: "pipelined",
    op: "get",
    inFlight: 64,
    ...get,
  });
  for (const c of clients) await c.close();
} finally {
  await harness.cleanup();
}

console.log(`\n${SECONDS} s per row, 100-byte values, Node ${process.version}\n`);
console.log("| setup | client | op | in flight | ops/s | p50 ms | p99 ms | errors |");
console.log("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |");
for (const r of rows) {
  console.log(
    `| ${r.setup} | ${r.client} | ${r.op} | ${r.inFlight} | ${r.opsPerSec} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.errors} |`,
  );
}
