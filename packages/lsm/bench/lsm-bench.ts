/**
 * @distkv/lsm against LevelDB (classic-level) in one process run, same workloads, same budgets
 * (4 MiB write buffer, 8 MiB block cache: both engines' defaults).
 *
 *   pnpm --filter @distkv/lsm bench                 # 1M keys
 *   pnpm --filter @distkv/lsm bench -- --keys 50000 # smaller
 *   pnpm --filter @distkv/lsm bench -- --quick      # smoke run (20k keys, fewer ops)
 *
 * Options: --keys N, --reads N (read/seek ops, default min(keys, 200k)), --sync-ops N (ops of the
 * 64-writer sync workload; the 1-writer one does a fifth), --engines distkv,classic,
 * --only w1,w2 (workload names), --out FILE (default bench-results/lsm.json), --dir DIR.
 *
 * Keys are 16 bytes (big-endian index + fixed tail, so fillseq is in key order), values 100
 * bytes of pseudo-random data. Every op is awaited (one in flight) unless the workload says
 * otherwise; each op's latency goes into a log-bucket histogram (<= 3% relative error).
 */

import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ClassicLevel } from "classic-level";
import { type Db, open } from "../src/db.js";
import { WriteBatch } from "../src/write-batch.js";
import { Histogram } from "./histogram.js";

// ---------- arguments ----------
function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const quick = process.argv.includes("--quick");
const KEYS = Number(arg("keys") ?? (quick ? 20_000 : 1_000_000));
const READS = Number(arg("reads") ?? Math.min(KEYS, quick ? 10_000 : 200_000));
const SYNC_OPS = Number(arg("sync-ops") ?? (quick ? 2_000 : 10_000));
const ENGINES = (arg("engines") ?? "distkv,classic").split(",");
const ONLY = arg("only")?.split(",");
const OUT = arg("out") ?? path.join(process.cwd(), "bench-results", "lsm.json");
const BASE = arg("dir") ?? path.join(os.tmpdir(), `lsm-bench-${process.pid}`);
const WRITE_BUFFER = 4 << 20;
const CACHE = 8 << 20;
const BATCH = 1000;
const HOT_KEYS = 10_000;
for (const [n, v] of Object.entries({ KEYS, READS, SYNC_OPS })) {
  if (!Number.isInteger(v) || v <= 0) throw new Error(`bad --${n.toLowerCase()}: ${v}`);
}

// ---------- data ----------
/** mulberry32: seeded, so both engines see the same key order. */
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
function makeValue(i: number): Uint8Array {
  const o = (i * 7919) % (valuePool.length - 100);
  return valuePool.slice(o, o + 100);
}

// ---------- engines ----------
interface Engine {
  name: "distkv-lsm" | "classic-level";
  put(k: Uint8Array, v: Uint8Array, sync?: boolean): Promise<void>;
  get(k: Uint8Array): Promise<Uint8Array | undefined>;
  batch(entries: [Uint8Array, Uint8Array][]): Promise<void>;
  scan(k: Uint8Array, n: number): Promise<number>;
  close(): Promise<void>;
  compact(): Promise<void>;
  writeAmplification(): number | undefined;
}

async function openDistkv(dir: string): Promise<Engine> {
  const db: Db = await open(dir, { writeBufferBytes: WRITE_BUFFER, blockCacheBytes: CACHE });
  return {
    name: "distkv-lsm",
    put: (k, v, sync) => db.put(k, v, sync ? { sync: true } : undefined),
    get: (k) => db.get(k),
    batch: (entries) => {
      const b = new WriteBatch();
      for (const [k, v] of entries) b.put(k, v);
      return db.write(b);
    },
    scan: async (k, n) => (await db.iterator({ gte: k, limit: n }).all()).length,
    close: () => db.close(),
    compact: () => db.compactRange(),
    writeAmplification: () => db.stats().writeAmplification,
  };
}

async function openClassic(dir: string): Promise<Engine> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, {
    keyEncoding: "view",
    valueEncoding: "view",
    writeBufferSize: WRITE_BUFFER,
    cacheSize: CACHE,
  });
  await db.open();
  return {
    name: "classic-level",
    put: (k, v, sync) => (sync ? db.put(k, v, { sync: true }) : db.put(k, v)),
    get: (k) => db.get(k),
    batch: (entries) =>
      db.batch(entries.map(([key, value]) => ({ type: "put" as const, key, value }))),
    scan: async (k, n) => (await db.iterator({ gte: k, limit: n }).all()).length,
    close: () => db.close(),
    compact: () => db.compactRange(new Uint8Array(0), new Uint8Array(17).fill(0xff)),
    writeAmplification: () => undefined,
  };
}

// ---------- measurement ----------
interface Result {
  engine: Engine["name"];
  workload: string;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}
const results: Result[] = [];
let peakRss = 0;
let distkvPeakRss = 0;
let phaseEngine: string | undefined;
function sampleRss(): void {
  const rss = process.memoryUsage.rss();
  if (rss > peakRss) peakRss = rss;
  if (phaseEngine === "distkv-lsm" && rss > distkvPeakRss) distkvPeakRss = rss;
}
const rssTimer = setInterval(sampleRss, 50);

/**
 * Runs `ops` operations with `concurrency` loops; `op(i)` does op number i and returns how many
 * user operations it counted (a batch counts its keys).
 */
async function measure(
  engine: Engine,
  workload: string,
  ops: number,
  concurrency: number,
  op: (i: number) => Promise<number>,
): Promise<Result> {
  if (ONLY !== undefined && !ONLY.includes(workload)) {
    return {
      engine: engine.name,
      workload,
      opsPerSec: Number.NaN,
      p50Ms: Number.NaN,
      p99Ms: Number.NaN,
    };
  }
  const h = new Histogram();
  let next = 0;
  let counted = 0;
  const t0 = performance.now();
  const loop = async () => {
    for (;;) {
      const i = next++;
      if (i >= ops) return;
      const s = performance.now();
      const c = await op(i);
      counted += c;
      h.record(performance.now() - s);
      if ((i & 1023) === 0) sampleRss();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const secs = (performance.now() - t0) / 1000;
  const r: Result = {
    engine: engine.name,
    workload,
    opsPerSec: Math.round(counted / secs),
    p50Ms: round3(h.percentile(50)),
    p99Ms: round3(h.percentile(99)),
  };
  results.push(r);
  console.log(
    `  ${workload.padEnd(20)} ${String(r.opsPerSec).padStart(10)} ops/s  p50 ${r.p50Ms.toFixed(3)} ms  p99 ${r.p99Ms.toFixed(3)} ms  (${secs.toFixed(1)} s)`,
  );
  return r;
}
const round3 = (x: number) => Math.round(x * 1000) / 1000;

// ---------- workloads ----------
async function runEngine(
  kind: "distkv" | "classic",
  openFn: (dir: string) => Promise<Engine>,
): Promise<number | undefined> {
  const dir = path.join(BASE, kind);
  const fresh = async (name: string) => {
    const d = `${dir}-${name}`;
    rmSync(d, { recursive: true, force: true });
    return { db: await openFn(d), d };
  };
  const order = permutation(KEYS, 1);
  const readOrder = permutation(KEYS, 2);
  const label = kind === "distkv" ? "distkv-lsm" : "classic-level";
  phaseEngine = label;
  console.log(`${label}:`);

  // fillseq: keys in order into an empty database.
  {
    const { db, d } = await fresh("seq");
    await measure(db, "fillseq", KEYS, 1, async (i) => {
      await db.put(makeKey(i), makeValue(i));
      return 1;
    });
    await db.close();
    rmSync(d, { recursive: true, force: true });
  }

  // fillrandom, then overwrite, then reads on that database.
  const { db: first, d: mainDir } = await fresh("main");
  let db = first;
  await measure(db, "fillrandom", KEYS, 1, async (i) => {
    const k = order[i]!;
    await db.put(makeKey(k), makeValue(k));
    return 1;
  });
  await measure(db, "overwrite", KEYS, 1, async (i) => {
    const k = order[(i * 31) % KEYS]!;
    await db.put(makeKey(k), makeValue(k + 1));
    return 1;
  });
  const wa = db.writeAmplification();

  // Reopen: the block cache starts empty (the OS page cache stays warm: no root drop here).
  await db.close();
  db = await openFn(mainDir);
  await measure(db, "readrandom-cold", READS, 1, async (i) => {
    const k = readOrder[i % KEYS]!;
    const v = await db.get(makeKey(k));
    if (v === undefined) throw new Error(`${label}: key ${k} missing`);
    return 1;
  });
  // Hot: a working set of HOT_KEYS keys that fits in the cache, warmed once.
  for (let i = 0; i < Math.min(HOT_KEYS, KEYS); i++) await db.get(makeKey(readOrder[i]!));
  await measure(db, "readrandom-hot", READS, 1, async (i) => {
    const k = readOrder[(i * 7) % Math.min(HOT_KEYS, KEYS)]!;
    const v = await db.get(makeKey(k));
    if (v === undefined) throw new Error(`${label}: key ${k} missing`);
    return 1;
  });
  await measure(db, "readmissing", READS, 1, async (i) => {
    const v = await db.get(makeKey(readOrder[i % KEYS]!, true));
    if (v !== undefined) throw new Error(`${label}: phantom key`);
    return 1;
  });
  await measure(db, "seekrandom-10", Math.max(1, Math.floor(READS / 4)), 1, async (i) => {
    const n = await db.scan(makeKey(readOrder[i % KEYS]!), 10);
    if (n === 0) throw new Error(`${label}: empty scan`);
    return 1;
  });
  await db.close();
  rmSync(mainDir, { recursive: true, force: true });

  // Batched writes of 1000 random keys, into an empty database.
  {
    const { db: bdb, d } = await fresh("batch");
    await measure(bdb, "batch-1000", Math.max(1, Math.floor(KEYS / BATCH)), 1, async (b) => {
      const entries: [Uint8Array, Uint8Array][] = [];
      for (let j = 0; j < BATCH; j++) {
        const k = order[(b * BATCH + j) % KEYS]!;
        entries.push([makeKey(k), makeValue(k)]);
      }
      await bdb.batch(entries);
      return BATCH;
    });
    await bdb.close();
    rmSync(d, { recursive: true, force: true });
  }

  // sync:true writes: one writer, then 64 concurrent writers.
  {
    const { db: sdb, d } = await fresh("sync");
    const one = Math.max(1, Math.floor(SYNC_OPS / 5));
    await measure(sdb, "sync-put-1", one, 1, async (i) => {
      await sdb.put(makeKey(i), makeValue(i), true);
      return 1;
    });
    await measure(sdb, "sync-put-64", SYNC_OPS, 64, async (i) => {
      await sdb.put(makeKey(one + i), makeValue(i), true);
      return 1;
    });
    await sdb.close();
    rmSync(d, { recursive: true, force: true });
  }
  phaseEngine = undefined;
  return wa;
}

// ---------- main ----------
mkdirSync(BASE, { recursive: true });
console.log(
  `lsm-bench: ${KEYS} keys (16 B) x 100 B values, ${READS} reads, ${SYNC_OPS} sync ops; node ${process.version}, ${os.cpus().length} cores`,
);
let writeAmplification: number | undefined;
try {
  if (ENGINES.includes("distkv")) writeAmplification = await runEngine("distkv", openDistkv);
  global.gc?.();
  if (ENGINES.includes("classic")) await runEngine("classic", openClassic);
} finally {
  clearInterval(rssTimer);
  rmSync(BASE, { recursive: true, force: true });
}

// ---------- report ----------
const workloads = [...new Set(results.map((r) => r.workload))];
const find = (e: string, w: string) => results.find((r) => r.engine === e && r.workload === w);
const rows: string[][] = [
  ["workload", "distkv ops/s", "p50 ms", "p99 ms", "classic ops/s", "p50 ms", "p99 ms", "ratio"],
];
for (const w of workloads) {
  const a = find("distkv-lsm", w);
  const b = find("classic-level", w);
  rows.push([
    w,
    a ? String(a.opsPerSec) : "-",
    a ? a.p50Ms.toFixed(3) : "-",
    a ? a.p99Ms.toFixed(3) : "-",
    b ? String(b.opsPerSec) : "-",
    b ? b.p50Ms.toFixed(3) : "-",
    b ? b.p99Ms.toFixed(3) : "-",
    a && b ? `${(a.opsPerSec / b.opsPerSec).toFixed(2)}x` : "-",
  ]);
}
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
console.log();
for (const [i, r] of rows.entries()) {
  console.log(
    `| ${r.map((c, j) => (j === 0 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join(" | ")} |`,
  );
  if (i === 0)
    console.log(
      `|${widths.map((w, j) => (j === 0 ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")}|`,
    );
}
const peakRssMb = Math.round((ENGINES.includes("distkv") ? distkvPeakRss : peakRss) / (1 << 20));
console.log(
  `\nwrite amplification (distkv, after fillrandom+overwrite): ${writeAmplification?.toFixed(2) ?? "-"}; peak RSS during distkv phases: ${peakRssMb} MB (whole run ${Math.round(peakRss / (1 << 20))} MB)`,
);
mkdirSync(path.dirname(OUT), { recursive: true });
writeFileSync(
  OUT,
  `${JSON.stringify({ results, writeAmplification: writeAmplification ?? null, peakRssMb }, null, 2)}\n`,
);
console.log(`wrote ${OUT}`);
