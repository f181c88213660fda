// CPU cost of coordination: put and get through an in-process 5-node cluster (N = 3) with no
// network delay, so every replica call is an encode, a decode and a few microtasks. This is the
// coordinator's own overhead per request, not a cluster's throughput (no sockets, no disk).
// Run: pnpm --filter @distkv/quorum bench
import type { Consistency } from "../src/index.js";
import { InMemoryCluster } from "../src/testing/index.js";

const DURATION_MS = Number(process.env.BENCH_MS ?? 1000);
const value = new Uint8Array(100).fill(7);
const keys = Array.from({ length: 10_000 }, (_, i) => `bench-key-${i}`);

async function cell(
  name: string,
  inFlight: number,
  op: (cluster: InMemoryCluster, key: string) => Promise<unknown>,
) {
  const cluster = new InMemoryCluster({ nodes: 5 });
  for (const key of keys.slice(0, 1000)) await cluster.put(key, value, { consistency: "all" });
  await cluster.settle();
  let done = 0;
  let next = 0;
  const latencies: number[] = [];
  const end = performance.now() + DURATION_MS;
  const worker = async () => {
    while (performance.now() < end) {
      const key = keys[next++ % 1000]!;
      const t0 = performance.now();
      await op(cluster, key);
      latencies.push(performance.now() - t0);
      done++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = (performance.now() - t0) / 1000;
  await cluster.settle();
  latencies.sort((a, b) => a - b);
  const p = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  console.log(
    `| ${name.padEnd(28)} | ${String(inFlight).padStart(3)} | ${Math.round(done / seconds)
      .toLocaleString("en-US")
      .padStart(8)} | ${p(0.5).toFixed(3).padStart(7)} | ${p(0.99).toFixed(3).padStart(7)} |`,
  );
}

// Warm-up (JIT), not reported.
{
  const cluster = new InMemoryCluster({ nodes: 5 });
  for (let i = 0; i < 20_000; i++) {
    await cluster.put(keys[i % 1000]!, value);
    await cluster.get(keys[i % 1000]!);
  }
  await cluster.settle();
}
console.log(`node ${process.version}, ${DURATION_MS} ms per cell`);
console.log("| operation                    | in flight | ops/s | p50 ms | p99 ms |");
console.log("| --- | ---: | ---: | ---: | ---: |");
for (const inFlight of [1, 64]) {
  for (const level of ["one", "quorum", "all"] as Consistency[]) {
    await cell(`put (${level})`, inFlight, (c, k) => c.put(k, value, { consistency: level }));
  }
  for (const level of ["one", "quorum", "all"] as Consistency[]) {
    await cell(`get (${level})`, inFlight, (c, k) => c.get(k, { consistency: level }));
  }
}
