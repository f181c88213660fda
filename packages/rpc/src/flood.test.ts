// Memory under a flood of large requests: a child process (test/flood-client.mjs) offers
// eight times the server's in-flight budget while every handler is held, and the server's
// retained heap (after a full GC) must stay within a bound derived from that budget. The
// bound is far below what the flood offers, so the test fails if the limits do not hold.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import { describe, expect, it } from "vitest";
import { defer, eventually, gate, sleep, startServer } from "../test/harness.js";
import { createDistKVClient } from "./client.js";
import { KVService } from "./gen/distkv/v1/kv_pb.js";
import { createPipelineHandler } from "./pipeline-service.js";
import { createPipelinedClient } from "./pipelined-client.js";

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

const MiB = 1024 * 1024;
const BUDGET = 16 * MiB;
const PER_CONNECTION = 4 * MiB;
const VALUE = 1 * MiB;
const SESSIONS = 8;
const PER_SESSION = 16;
const OFFERED = SESSIONS * PER_SESSION * VALUE;
/** Retained server memory allowed at the flood's peak: the budget, twice, plus slack. */
const BOUND = 2 * BUDGET + 8 * MiB;

const clientScript = fileURLToPath(new URL("../test/flood-client.mjs", import.meta.url));

/**
 * Heap plus array buffers (where request bytes live), after full collections (the second
 * frees the backing stores of buffers whose objects the first one collected).
 */
function retained(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** What the server may still hold after a flood: far below the 128 MiB it was offered. */
const LEAK_TOLERANCE = 16 * MiB;

/** Starts the flood; resolves with the client's answer counts when it is done. */
function flood(url: string, mode: "unary" | "pipeline"): Promise<Record<string, number>> {
  const child = spawn(
    process.execPath,
    [clientScript, url, mode, String(SESSIONS), String(PER_SESSION), String(VALUE)],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  defer(() => child.kill("SIGKILL"));
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) reject(new Error(`flood client exited with ${code}`));
      else resolve((JSON.parse(out) as { answers: Record<string, number> }).answers);
    });
  });
}

/** Puts that wait for `release` once `hold` is set. */
function heldPuts() {
  const g = gate();
  const state = { running: 0, peak: 0, hold: false };
  const put = async () => {
    if (!state.hold) return { replicasAcked: 1 };
    state.running++;
    state.peak = Math.max(state.peak, state.running);
    await g.promise;
    state.running--;
    return { replicasAcked: 1 };
  };
  return { state, put, release: () => g.open() };
}

/**
 * Sends a few large puts and pipelined puts first, so that the baseline already includes
 * what the server allocates once (compiled code, session state): growth after the flood is
 * then growth, not warm-up.
 */
async function warmUp(url: string): Promise<void> {
  const unary = createDistKVClient({ baseUrl: url });
  const kv = createPipelinedClient({ baseUrl: url });
  try {
    for (let i = 0; i < 8; i++) {
      await unary.kv.put({ key: Buffer.from("w"), value: new Uint8Array(VALUE) });
      await kv.put("w", new Uint8Array(VALUE));
    }
  } finally {
    unary.close();
    await kv.close();
  }
}

/** Waits until `value()` has not changed for a while (the flood has settled against the limits). */
async function settled(value: () => number): Promise<void> {
  let last = Number.NaN;
  let same = 0;
  while (same < 20) {
    await sleep(25);
    const v = value();
    same = v === last ? same + 1 : 0;
    last = v;
  }
}

/** A server with the flood's limits, warmed up, whose puts are now held. */
async function floodServer() {
  const held = heldPuts();
  const server = await startServer(
    (r) =>
      r.service(KVService, {
        put: held.put,
        pipeline: createPipelineHandler({ put: held.put }),
      }),
    {
      readMaxBytes: VALUE + 1024,
      maxConnectionInFlightBytes: PER_CONNECTION,
      maxInFlightBytes: BUDGET,
    },
  );
  await warmUp(server.url);
  await eventually(() => server.connections === 0);
  held.state.hold = true;
  return { held, server };
}

const figures: string[] = [];
const fmt = (n: number): string => `${(n / MiB).toFixed(1)} MiB`;

describe("a flood of large requests", () => {
  it("unary puts: memory stays within the client budget, the rest get RESOURCE_EXHAUSTED", async () => {
    const { held, server } = await floodServer();
    const before = retained();
    const rss0 = process.memoryUsage().rss;
    const done = flood(server.url, "unary");
    const total = SESSIONS * PER_SESSION;
    // Every request is either running (held) or has been refused.
    await eventually(() => held.state.running + server.usage().refusedRequests === total, 60_000);
    const peak = retained() - before;
    const rss = process.memoryUsage().rss - rss0;
    const running = held.state.running;
    expect(running).toBeGreaterThan(0);
    // Each running put holds at least its 1 MiB value.
    expect(running).toBeLessThanOrEqual(BUDGET / VALUE);
    expect(server.usage().inFlightBytes.client).toBeLessThanOrEqual(BUDGET);
    expect(peak).toBeLessThan(BOUND);
    expect(OFFERED).toBeGreaterThan(3 * BOUND);
    // RSS also counts freed memory the allocator keeps: only a loose check.
    expect(rss).toBeLessThan(OFFERED);

    held.release();
    const answers = await done;
    expect(answers).toEqual({ ok: running, resource_exhausted: total - running });
    await eventually(() => server.usage().inFlightBytes.client === 0 && server.connections === 0);
    const after = retained() - before;
    expect(after).toBeLessThan(LEAK_TOLERANCE);
    figures.push(
      `unary: offered ${fmt(OFFERED)} in ${total} puts; ${running} ran at once, ${total - running} refused; retained heap+buffers at the peak +${fmt(peak)}, after +${fmt(after)}; RSS +${fmt(rss)} (budget ${fmt(BUDGET)}, bound ${fmt(BOUND)})`,
    );
  });

  it("pipelined puts: streams wait for room, memory stays within the budget, every call succeeds", async () => {
    const { held, server } = await floodServer();
    const before = retained();
    const rss0 = process.memoryUsage().rss;
    const done = flood(server.url, "pipeline");
    await eventually(() => held.state.running > 0, 60_000);
    await settled(() => held.state.running);
    const peak = retained() - before;
    const rss = process.memoryUsage().rss - rss0;
    const running = held.state.running;
    // A message is charged twice its size while it arrives, and held until its call ends.
    expect(running).toBeLessThanOrEqual(BUDGET / (2 * VALUE));
    expect(server.usage().inFlightBytes.client).toBeLessThanOrEqual(BUDGET + MiB);
    expect(server.usage().refusedRequests).toBe(0);
    expect(peak).toBeLessThan(BOUND);
    expect(rss).toBeLessThan(OFFERED);

    held.release();
    const answers = await done;
    expect(answers).toEqual({ ok: SESSIONS * PER_SESSION });
    expect(held.state.peak).toBe(running);
    await eventually(() => server.usage().inFlightBytes.client === 0 && server.connections === 0);
    const after = retained() - before;
    expect(after).toBeLessThan(LEAK_TOLERANCE);
    figures.push(
      `pipeline: offered ${fmt(OFFERED)} in ${SESSIONS} streams x ${PER_SESSION} puts; ${running} ran at once, none refused; retained heap+buffers at the peak +${fmt(peak)}, after +${fmt(after)}; RSS +${fmt(rss)} (budget ${fmt(BUDGET)}, bound ${fmt(BOUND)})`,
    );
    console.log(figures.join("\n"));
  });
});
