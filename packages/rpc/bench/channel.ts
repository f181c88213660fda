// Unary Connect calls vs the multiplexed stream, with and without frame coalescing, over HTTP/2
// and over mux-tcp, at 1 and 64 calls in flight. The server runs in a child process (bench/channel-server.ts); every
// figure comes from this one run, so compare the ratios, not absolute numbers across runs.
//
//   pnpm --filter @distkv/rpc bench            (BENCH_SECONDS=3 by default)
import { spawn } from "node:child_process";
import { once } from "node:events";
import * as os from "node:os";
import { fileURLToPath } from "node:url";
import type { Interceptor } from "@connectrpc/connect";
import { createDistKVClient } from "../src/client.js";
import { createPeerClient } from "../src/peer-client.js";
import { createPipelinedClient } from "../src/pipelined-client.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const WARMUP_MS = 500;
const VALUE = new Uint8Array(100).fill(7);

interface Result {
  name: string;
  inFlight: number;
  opsPerSec: number;
  p50: number;
  p99: number;
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

/** Runs `op` from `inFlight` loops for SECONDS after a warmup; latency per op. */
async function run(
  name: string,
  inFlight: number,
  op: (i: number) => Promise<unknown>,
): Promise<Result> {
  let stop = false;
  let recording = false;
  let lat: number[] = [];
  let i = 0;
  const loop = async (): Promise<void> => {
    while (!stop) {
      const t0 = performance.now();
      await op(i++);
      if (recording) lat.push(performance.now() - t0);
    }
  };
  const loops = Array.from({ length: inFlight }, loop);
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  lat = [];
  recording = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  recording = false;
  const elapsed = (performance.now() - t0) / 1000;
  const count = lat.length;
  stop = true;
  await Promise.all(loops);
  const sorted = Float64Array.from(lat).sort();
  const r = {
    name,
    inFlight,
    opsPerSec: count / elapsed,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
  };
  console.error(
    `${name} @${inFlight}: ${Math.round(r.opsPerSec)} ops/s p50 ${r.p50.toFixed(2)} ms p99 ${r.p99.toFixed(2)} ms`,
  );
  return r;
}

const noCoalesceHeader: Interceptor = (next) => (req) => {
  req.header.set("x-bench-coalesce", "off");
  return next(req);
};

async function main(): Promise<void> {
  const serverFile = fileURLToPath(new URL("./channel-server.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", serverFile], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const [chunk] = (await once(child.stdout, "data")) as [Buffer];
  const port = Number.parseInt(chunk.toString(), 10);
  const baseUrl = `http://127.0.0.1:${port}`;
  const results: Result[] = [];
  const key = (i: number): Uint8Array => Buffer.from(`key-${i % 10000}`);

  try {
    // Warm up both processes' JIT on every path before anything is measured.
    {
      const u = createDistKVClient({ baseUrl });
      const p = createPeerClient({ baseUrl, transport: "http2" });
      const q = createPipelinedClient({ baseUrl });
      const until = performance.now() + 2000;
      const loop = async (f: (i: number) => Promise<unknown>): Promise<void> => {
        for (let i = 0; performance.now() < until; i++) await f(i);
      };
      await Promise.all(
        Array.from({ length: 8 }, () => [
          loop((i) => u.kv.put({ key: key(i), value: VALUE })),
          loop((i) => p.replicaWrite({ key: key(i), siblings: VALUE })),
          loop((i) => q.put(key(i), VALUE)),
        ]).flat(),
      );
      u.close();
      await p.close();
      await q.close();
    }
    for (const inFlight of [1, 64]) {
      const unary = createDistKVClient({ baseUrl, protocol: "connect", httpVersion: "2" });
      results.push(
        await run("unary Connect (h2, binary)", inFlight, (i) =>
          unary.kv.put({ key: key(i), value: VALUE }),
        ),
      );
      unary.close();

      const grpc = createDistKVClient({ baseUrl, protocol: "grpc" });
      results.push(
        await run("unary gRPC (h2)", inFlight, (i) => grpc.kv.put({ key: key(i), value: VALUE })),
      );
      grpc.close();

      const peerOff = createPeerClient({
        baseUrl,
        transport: "http2",
        coalesce: false,
        interceptors: [noCoalesceHeader],
      });
      results.push(
        await run("peer mux, no coalescing", inFlight, (i) =>
          peerOff.replicaWrite({ key: key(i), siblings: VALUE }),
        ),
      );
      await peerOff.close();

      const peerOn = createPeerClient({ baseUrl, transport: "http2" });
      results.push(
        await run("peer mux, coalescing", inFlight, (i) =>
          peerOn.replicaWrite({ key: key(i), siblings: VALUE }),
        ),
      );
      await peerOn.close();

      const peerTcp = createPeerClient({ baseUrl, transport: "tcp" });
      results.push(
        await run("peer mux, coalescing, mux-tcp", inFlight, (i) =>
          peerTcp.replicaWrite({ key: key(i), siblings: VALUE }),
        ),
      );
      await peerTcp.close();

      const pipeOff = createPipelinedClient({
        baseUrl,
        transport: "http2",
        coalesce: false,
        interceptors: [noCoalesceHeader],
      });
      results.push(
        await run("pipelined put, no coalescing", inFlight, (i) => pipeOff.put(key(i), VALUE)),
      );
      await pipeOff.close();

      const pipeOn = createPipelinedClient({ baseUrl, transport: "http2" });
      results.push(
        await run("pipelined put, coalescing", inFlight, (i) => pipeOn.put(key(i), VALUE)),
      );
      await pipeOn.close();

      const pipeTcp = createPipelinedClient({ baseUrl, transport: "tcp" });
      results.push(
        await run("pipelined put, coalescing, mux-tcp", inFlight, (i) =>
          pipeTcp.put(key(i), VALUE),
        ),
      );
      await pipeTcp.close();
    }
  } finally {
    child.stdin.end();
    await once(child, "exit");
  }

  const cpu = os.cpus();
  console.log(
    `\n${cpu.length} cores (${cpu[0]?.model ?? "?"}), Node ${process.version}, loopback, server in a child process, ${SECONDS} s per row, 100-byte values\n`,
  );
  console.log("| path | in flight | ops/s | p50 ms | p99 ms |");
  console.log("| --- | ---: | ---: | ---: | ---: |");
  for (const r of results) {
    console.log(
      `| ${r.name} | ${r.inFlight} | ${Math.round(r.opsPerSec).toLocaleString("en-US")} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} |`,
    );
  }
  const get = (name: string, n: number): number =>
    results.find((r) => r.name === name && r.inFlight === n)?.opsPerSec ?? Number.NaN;
  const ratio = (a: number, b: number): string => `${(a / b).toFixed(1)}x`;
  console.log("\nRatios (same run):");
  for (const n of [1, 64]) {
    console.log(
      `- ${n} in flight: peer mux coalescing / unary Connect = ${ratio(get("peer mux, coalescing", n), get("unary Connect (h2, binary)", n))}; ` +
        `coalescing / no coalescing = ${ratio(get("peer mux, coalescing", n), get("peer mux, no coalescing", n))}; ` +
        `pipelined put coalescing / unary Connect = ${ratio(get("pipelined put, coalescing", n), get("unary Connect (h2, binary)", n))}; ` +
        `mux-tcp / HTTP/2 stream: peer ${ratio(get("peer mux, coalescing, mux-tcp", n), get("peer mux, coalescing", n))}, ` +
        `pipelined ${ratio(get("pipelined put, coalescing, mux-tcp", n), get("pipelined put, coalescing", n))}`,
    );
  }
}

await main();
