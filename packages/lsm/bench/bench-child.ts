/**
 * One engine's side of lsm-bench, in a process of its own (so that each engine's peak RSS is
 * its own). The parent sends workload names one at a time over IPC and this process replies
 * with the measurement; the parent alternates between the two engines workload by workload (and
 * part by part within read workloads), so a change in the machine's load hits both sides of a
 * ratio alike.
 *
 *   args: --engine distkv|classic --keys N --reads N --sync-ops N --dir DIR
 */

import { rmSync } from "node:fs";
import * as path from "node:path";
import { type Engine, openClassic, openDistkv } from "./engines.js";
import { Histogram } from "./histogram.js";
import type { ChildReply, ParentMessage, Result, WorkloadName } from "./protocol.js";

function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (v === undefined) throw new Error(`bench-child: missing --${name}`);
  return v;
}
const KIND = arg("engine") as "distkv" | "classic";
const KEYS = Number(arg("keys"));
const READS = Number(arg("reads"));
const SYNC_OPS = Number(arg("sync-ops"));
const DIR = path.join(arg("dir"), KIND);
const BATCH = 1000;
/** Background work gets this long to finish after a write workload before we go on anyway. */
const SETTLE_MAX_MS = 300_000;
const openEngine = KIND === "distkv" ? openDistkv : openClassic;
const label = KIND === "distkv" ? "distkv-lsm" : "classic-level";

/** Peak resident set size of this process so far (getrusage: the kernel's high-water mark). */
const peakRssMb = () => Math.round(process.resourceUsage().maxRSS / 1024);
// Before any data is made: what the runtime alone costs.
const baselineRssMb = peakRssMb();

// ---------- data (seeded: both engines see the same keys in the same order) ----------
/** mulberry32. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function permutation(n: number, seed: number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  const r = rng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}
/** 16-byte key: 4-byte big-endian index, then a fixed tail; `missing` keys use another tail. */
function makeKey(i: number, missing = false): Uint8Array {
  const k = new Uint8Array(16);
  k[0] = i >>> 24;
  k[1] = (i >>> 16) & 0xff;
  k[2] = (i >>> 8) & 0xff;
  k[3] = i & 0xff;
  for (let j = 4; j < 16; j++) k[j] = missing ? 0x7a - j : 0x61 + j;
  return k;
}
const valuePool = new Uint8Array(1 << 20);
{
  const r = rng(42);
  for (let i = 0; i < valuePool.length; i++) valuePool[i] = Math.floor(r() * 256);
}
/** A view into the pool, as db_bench's value generator: the harness allocates no value bytes. */
function makeValue(i: number): Uint8Array {
  const o = (i * 7919) % (valuePool.length - 100);
  return valuePool.subarray(o, o + 100);
}
const order = permutation(KEYS, 1);
const readOrder = permutation(KEYS, 2);
/** readhot as LevelDB's db_bench defines it: random reads within a 1% section of the keys. */
const HOT_KEYS = Math.max(1, Math.floor(KEYS / 100));
const hotOrder = permutation(HOT_KEYS, 3);

// With LSM_BENCH_MEMLOG=1, report where memory goes: the largest RSS, V8 heap and off-heap
// (array buffer) figures sampled during each workload.
const memLog = process.env.LSM_BENCH_MEMLOG === "1";
const memMax = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
if (memLog) {
  setInterval(() => {
    const m = process.memoryUsage();
    for (const k of Object.keys(memMax) as (keyof typeof memMax)[]) {
      memMax[k] = Math.max(memMax[k], m[k]);
    }
  }, 20).unref();
}
function memReport(workload: string): void {
  if (!memLog) return;
  const mb = (x: number) => Math.round(x / 2 ** 20);
  console.error(
    `    [mem ${label} ${workload}] max rss ${mb(memMax.rss)} heapTotal ${mb(memMax.heapTotal)} heapUsed ${mb(memMax.heapUsed)} external ${mb(memMax.external)} arrayBuffers ${mb(memMax.arrayBuffers)}`,
  );
  for (const k of Object.keys(memMax) as (keyof typeof memMax)[]) memMax[k] = 0;
}

// ---------- measurement ----------
/** A workload's measurement so far (a read workload runs in parts, see lsm-bench.ts). */
interface Tally {
  h: Histogram;
  counted: number;
  secs: number;
  /** CPU time of the whole process (all its threads) in the measured loops, microseconds. */
  cpuUs: number;
}
const tallies = new Map<WorkloadName, Tally>();

/**
 * Runs part `part` of `parts` of `ops` operations with `concurrency` loops and returns the
 * workload's figures over all parts so far; `op(i)` does op number i and returns how many user
 * operations it counted (a batch counts its keys).
 */
async function measure(
  workload: WorkloadName,
  ops: number,
  concurrency: number,
  op: (i: number) => Promise<number>,
  part = 0,
  parts = 1,
): Promise<Result> {
  let tally = tallies.get(workload);
  if (part === 0 || tally === undefined) {
    tally = { h: new Histogram(), counted: 0, secs: 0, cpuUs: 0 };
    tallies.set(workload, tally);
  }
  const t = tally;
  const end = Math.floor((ops * (part + 1)) / parts);
  let next = Math.floor((ops * part) / parts);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const loop = async () => {
    for (;;) {
      const i = next++;
      if (i >= end) return;
      const s = performance.now();
      const c = await op(i);
      t.counted += c;
      t.h.record(performance.now() - s);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  t.secs += (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  t.cpuUs += cpu.user + cpu.system;
  return {
    engine: label,
    workload,
    opsPerSec: Math.round(t.counted / t.secs),
    p50Ms: round3(t.h.percentile(50)),
    p99Ms: round3(t.h.percentile(99)),
    cpuUsPerOp: Math.round((t.cpuUs / t.counted) * 100) / 100,
    seconds: Math.round(t.secs * 10) / 10,
    peakRssMb: peakRssMb(),
  };
}
const round3 = (x: number) => Math.round(x * 1000) / 1000;

// ---------- workloads ----------
let main: Engine | undefined;
let aux: Engine | undefined;
let writeAmplification: number | undefined;
const settleMs: Partial<Record<WorkloadName, number>> = {};

async function fresh(name: string): Promise<Engine> {
  const d = `${DIR}-${name}`;
  rmSync(d, { recursive: true, force: true });
  return openEngine(d);
}
async function drop(db: Engine | undefined, name: string): Promise<void> {
  await db?.close();
  rmSync(`${DIR}-${name}`, { recursive: true, force: true });
}
function need(db: Engine | undefined, workload: string): Engine {
  if (db === undefined)
    throw new Error(`${label}: ${workload} needs the database fillrandom loads`);
  return db;
}
async function readCheck(db: Engine, k: number): Promise<number> {
  const v = await db.get(makeKey(k));
  if (v === undefined) throw new Error(`${label}: key ${k} missing`);
  return 1;
}

/** Each workload, given which part of how many to run (reads only are split; see lsm-bench). */
const workloads: Record<WorkloadName, (part: number, parts: number) => Promise<Result>> = {
  // Keys in order into an empty database.
  fillseq: async () => {
    const db = await fresh("seq");
    const r = await measure("fillseq", KEYS, 1, async (i) => {
      await db.put(makeKey(i), makeValue(i));
      return 1;
    });
    await drop(db, "seq");
    return r;
  },
  fillrandom: async () => {
    await drop(main, "main");
    const db = await fresh("main");
    main = db;
    const r = await measure("fillrandom", KEYS, 1, async (i) => {
      const k = order[i]!;
      await db.put(makeKey(k), makeValue(k));
      return 1;
    });
    settleMs.fillrandom = await db.settle(SETTLE_MAX_MS);
    writeAmplification = db.writeAmplification();
    return r;
  },
  overwrite: async () => {
    const db = need(main, "overwrite");
    const r = await measure("overwrite", KEYS, 1, async (i) => {
      const k = order[(i * 31) % KEYS]!;
      await db.put(makeKey(k), makeValue(k + 1));
      return 1;
    });
    settleMs.overwrite = await db.settle(SETTLE_MAX_MS);
    writeAmplification = db.writeAmplification();
    return r;
  },
  // Reopened, so the block cache starts empty (the OS page cache stays warm: no root to drop it).
  "readrandom-cold": async (part, parts) => {
    if (part === 0) {
      await need(main, "readrandom-cold").close();
      main = await openEngine(`${DIR}-main`);
      // Reopening may start work of its own (LevelDB compacts the log it replays).
      settleMs["readrandom-cold"] = await main.settle(SETTLE_MAX_MS);
    }
    const db = need(main, "readrandom-cold");
    const read = (i: number) => readCheck(db, readOrder[i % KEYS]!);
    return measure("readrandom-cold", READS, 1, read, part, parts);
  },
  // The 1% section's blocks fit in either engine's cache; warmed once, then measured.
  "readrandom-hot": async (part, parts) => {
    const db = need(main, "readrandom-hot");
    if (part === 0) for (let i = 0; i < HOT_KEYS; i++) await readCheck(db, hotOrder[i]!);
    const read = (i: number) => readCheck(db, hotOrder[i % HOT_KEYS]!);
    return measure("readrandom-hot", READS, 1, read, part, parts);
  },
  readmissing: async (part, parts) => {
    const db = need(main, "readmissing");
    const read = async (i: number) => {
      const v = await db.get(makeKey(readOrder[i % KEYS]!, true));
      if (v !== undefined) throw new Error(`${label}: phantom key`);
      return 1;
    };
    return measure("readmissing", READS, 1, read, part, parts);
  },
  "seekrandom-10": async (part, parts) => {
    const db = need(main, "seekrandom-10");
    const seek = async (i: number) => {
      const n = await db.scan(makeKey(readOrder[i % KEYS]!), 10);
      if (n === 0) throw new Error(`${label}: empty scan`);
      return 1;
    };
    return measure("seekrandom-10", Math.max(1, Math.floor(READS / 4)), 1, seek, part, parts);
  },
  // Batches of 1000 random keys into an empty database.
  "batch-1000": async () => {
    await drop(main, "main");
    main = undefined;
    const db = await fresh("batch");
    const r = await measure("batch-1000", Math.max(1, Math.floor(KEYS / BATCH)), 1, async (b) => {
      const entries: [Uint8Array, Uint8Array][] = [];
      for (let j = 0; j < BATCH; j++) {
        const k = order[(b * BATCH + j) % KEYS]!;
        entries.push([makeKey(k), makeValue(k)]);
      }
      await db.batch(entries);
      return BATCH;
    });
    await drop(db, "batch");
    return r;
  },
  // sync: true writes, one writer, then 64 concurrent writers (same database).
  "sync-put-1": async () => {
    await drop(aux, "sync");
    const db = await fresh("sync");
    aux = db;
    return measure("sync-put-1", syncOne(), 1, async (i) => {
      await db.put(makeKey(i), makeValue(i), true);
      return 1;
    });
  },
  "sync-put-64": async () => {
    const db = aux ?? (await fresh("sync"));
    aux = db;
    const base = syncOne();
    return measure("sync-put-64", SYNC_OPS, 64, async (i) => {
      await db.put(makeKey(base + i), makeValue(i), true);
      return 1;
    });
  },
};
function syncOne(): number {
  return Math.max(1, Math.floor(SYNC_OPS / 5));
}

// ---------- IPC ----------
function reply(m: ChildReply): void {
  process.send!(m);
}

process.on("message", (m: ParentMessage) => {
  void (async () => {
    try {
      if (m.type === "run") {
        const result = await workloads[m.workload](m.part, m.parts);
        memReport(m.workload);
        reply({ type: "result", result });
      } else {
        await drop(main, "main");
        await drop(aux, "sync");
        reply({
          type: "finished",
          peakRssMb: peakRssMb(),
          baselineRssMb,
          writeAmplification: writeAmplification ?? null,
          settleMs,
        });
        process.disconnect();
      }
    } catch (e) {
      reply({ type: "error", message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    }
  })();
});
reply({ type: "ready" });
