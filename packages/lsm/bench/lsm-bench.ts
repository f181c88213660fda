/**
 * @distkv/lsm against LevelDB (classic-level) in one run, same workloads, same budgets
 * (4 MiB write buffer, 8 MiB block cache: both engines' defaults).
 *
 *   pnpm --filter @distkv/lsm bench                 # 1M keys; compiles, then runs with node
 *   pnpm --filter @distkv/lsm bench -- --keys 50000 # smaller
 *   pnpm --filter @distkv/lsm bench -- --quick      # smoke run (20k keys, fewer ops)
 *
 * Options: --keys N, --reads N (read/seek ops, default min(keys, 200k)), --sync-ops N (ops of the
 * 64-writer sync workload; the 1-writer one does a fifth), --engines distkv,classic,
 * --only w1,w2 (workload names; reads still load their database with fillrandom, unreported),
 * --out FILE (default bench-results/lsm.json), --dir DIR. LSM_BENCH_MEMLOG=1 prints where each
 * engine's memory went during each workload.
 *
 * Each engine runs in a child process of its own (bench-child.ts), so that each peak RSS is that
 * engine's alone, and the two alternate workload by workload (the first to go alternates too),
 * and read workloads in five parts each, so that the load of a shared machine changes both sides
 * of a ratio alike. After each write workload, and after reopening for the cold reads, an engine
 * is given time to finish its background flushes and compactions (reported as settle times)
 * before anything else is measured. Besides ops/s and latency, each result has the CPU time of
 * the engine's process per operation.
 *
 * Keys are 16 bytes (big-endian index + fixed tail, so fillseq is in key order), values 100
 * bytes of pseudo-random data. Every op is awaited (one in flight) unless the workload says
 * otherwise; each op's latency goes into a log-bucket histogram (<= 3% relative error).
 */

import { type ChildProcess, fork } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import {
  BLOCK_CACHE_BYTES,
  type EngineName,
  MAX_IMMUTABLE_MEMTABLES,
  WRITE_BUFFER_BYTES,
} from "./engines.js";
import {
  type ChildReply,
  type ParentMessage,
  type Result,
  WORKLOADS,
  type WorkloadName,
} from "./protocol.js";

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
for (const [n, v] of Object.entries({ KEYS, READS, SYNC_OPS })) {
  if (!Number.isInteger(v) || v <= 0) throw new Error(`bad --${n.toLowerCase()}: ${v}`);
}
for (const e of ENGINES) {
  if (e !== "distkv" && e !== "classic") throw new Error(`unknown engine ${e}`);
}
for (const w of ONLY ?? []) {
  if (!(WORKLOADS as readonly string[]).includes(w)) throw new Error(`unknown workload ${w}`);
}
const READ_WORKLOADS: readonly WorkloadName[] = [
  "readrandom-cold",
  "readrandom-hot",
  "readmissing",
  "seekrandom-10",
];
/**
 * Read workloads run in this many parts, the engines taking turns part by part: they hold no
 * background work (the engines settled before them), so finer alternation only makes a ratio
 * less sensitive to the machine's load changing during the run.
 */
const READ_PARTS = 5;
const reported = (w: WorkloadName) => ONLY === undefined || ONLY.includes(w);
// Reads need the database fillrandom loads.
const plan = WORKLOADS.filter(
  (w) =>
    reported(w) ||
    (w === "fillrandom" && READ_WORKLOADS.some(reported)) ||
    (w === "sync-put-1" && reported("sync-put-64")),
);
/** memtables (the active one and the frozen ones) + block cache + 150 MB: the issue's budget. */
const RSS_BUDGET_MB =
  Math.round(((1 + MAX_IMMUTABLE_MEMTABLES) * WRITE_BUFFER_BYTES + BLOCK_CACHE_BYTES) / 2 ** 20) +
  150;

// ---------- children ----------
class Child {
  private readonly proc: ChildProcess;
  private waiting: { resolve(m: ChildReply): void; reject(e: Error): void } | undefined;
  private readonly ready: Promise<ChildReply>;

  constructor(readonly kind: "distkv" | "classic") {
    // Same runtime and loader as this process (node for the compiled bench, tsx if run so).
    const here = fileURLToPath(import.meta.url);
    const script = path.join(path.dirname(here), `bench-child${path.extname(here)}`);
    this.proc = fork(
      script,
      [
        "--engine",
        kind,
        "--keys",
        String(KEYS),
        "--reads",
        String(READS),
        "--sync-ops",
        String(SYNC_OPS),
        "--dir",
        BASE,
      ],
      { stdio: ["ignore", "inherit", "inherit", "ipc"] },
    );
    this.ready = this.next();
    this.proc.on("message", (m: ChildReply) => {
      const w = this.waiting;
      this.waiting = undefined;
      if (m.type === "error") w?.reject(new Error(`${kind}: ${m.message}`));
      else w?.resolve(m);
    });
    this.proc.on("exit", (code, signal) => {
      this.waiting?.reject(new Error(`${kind} child exited (code ${code}, signal ${signal})`));
      this.waiting = undefined;
    });
  }

  private next(): Promise<ChildReply> {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  private async ask(m: ParentMessage): Promise<ChildReply> {
    await this.ready;
    const reply = this.next();
    this.proc.send(m);
    return reply;
  }

  async run(workload: WorkloadName, part: number, parts: number): Promise<Result> {
    const r = await this.ask({ type: "run", workload, part, parts });
    if (r.type !== "result") throw new Error(`${this.kind}: unexpected reply ${r.type}`);
    return r.result;
  }

  async finish(): Promise<Extract<ChildReply, { type: "finished" }>> {
    const r = await this.ask({ type: "finish" });
    if (r.type !== "finished") throw new Error(`${this.kind}: unexpected reply ${r.type}`);
    return r;
  }

  kill(): void {
    if (this.proc.exitCode === null) this.proc.kill("SIGKILL");
  }
}

// ---------- main ----------
mkdirSync(BASE, { recursive: true });
console.log(
  `lsm-bench: ${KEYS} keys (16 B) x 100 B values, ${READS} reads, ${SYNC_OPS} sync ops; node ${process.version}, ${os.cpus().length} cores; one process per engine`,
);
const children = ENGINES.map((e) => new Child(e as "distkv" | "classic"));
const results: Result[] = [];
const finished = new Map<EngineName, Extract<ChildReply, { type: "finished" }>>();
try {
  for (const [i, w] of plan.entries()) {
    const parts = READ_WORKLOADS.includes(w) ? READ_PARTS : 1;
    const last = new Map<Child, Result>();
    for (let part = 0; part < parts; part++) {
      const turn = (i + part) % 2 === 0 ? children : [...children].reverse();
      for (const c of turn) last.set(c, await c.run(w, part, parts));
    }
    for (const c of children) {
      const r = last.get(c)!;
      if (reported(w)) results.push(r);
      console.log(
        `  ${w.padEnd(16)} ${r.engine.padEnd(14)} ${String(r.opsPerSec).padStart(9)} ops/s  p50 ${r.p50Ms.toFixed(3)} ms  p99 ${r.p99Ms.toFixed(3)} ms  CPU ${r.cpuUsPerOp.toFixed(2)} us/op  (${r.seconds.toFixed(1)} s, peak RSS so far ${r.peakRssMb} MB)`,
      );
    }
  }
  for (const c of children) {
    const f = await c.finish();
    finished.set(c.kind === "distkv" ? "distkv-lsm" : "classic-level", f);
  }
} finally {
  for (const c of children) c.kill();
  rmSync(BASE, { recursive: true, force: true });
}

// ---------- report ----------
const find = (e: EngineName, w: WorkloadName) =>
  results.find((r) => r.engine === e && r.workload === w);
const ratio = (w: WorkloadName): number | undefined => {
  const a = find("distkv-lsm", w);
  const b = find("classic-level", w);
  return a && b ? a.opsPerSec / b.opsPerSec : undefined;
};
const cpuRatio = (w: WorkloadName): number | undefined => {
  const a = find("distkv-lsm", w);
  const b = find("classic-level", w);
  return a && b ? b.cpuUsPerOp / a.cpuUsPerOp : undefined;
};
const rows: string[][] = [
  [
    "workload",
    "distkv ops/s",
    "p50 ms",
    "p99 ms",
    "classic ops/s",
    "p50 ms",
    "p99 ms",
    "ratio",
    "CPU us/op distkv",
    "classic",
    "CPU ratio",
  ],
];
for (const w of WORKLOADS.filter(reported)) {
  const a = find("distkv-lsm", w);
  const b = find("classic-level", w);
  const q = ratio(w);
  rows.push([
    w,
    a ? String(a.opsPerSec) : "-",
    a ? a.p50Ms.toFixed(3) : "-",
    a ? a.p99Ms.toFixed(3) : "-",
    b ? String(b.opsPerSec) : "-",
    b ? b.p50Ms.toFixed(3) : "-",
    b ? b.p99Ms.toFixed(3) : "-",
    q === undefined ? "-" : `${q.toFixed(2)}x`,
    a ? a.cpuUsPerOp.toFixed(2) : "-",
    b ? b.cpuUsPerOp.toFixed(2) : "-",
    cpuRatio(w) === undefined ? "-" : `${cpuRatio(w)!.toFixed(2)}x`,
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

const distkv = finished.get("distkv-lsm");
const classic = finished.get("classic-level");
console.log();
for (const [name, f] of finished) {
  const settle = Object.entries(f.settleMs)
    .map(([w, ms]) => `${w} ${(ms / 1000).toFixed(1)} s`)
    .join(", ");
  console.log(
    `${name}: peak RSS ${f.peakRssMb} MB (runtime alone ${f.baselineRssMb} MB); background work after: ${settle || "-"}`,
  );
}
if (distkv !== undefined) {
  console.log(
    `distkv-lsm RSS budget: memtables ${(((1 + MAX_IMMUTABLE_MEMTABLES) * WRITE_BUFFER_BYTES) / 2 ** 20).toFixed(0)} MiB + cache ${(BLOCK_CACHE_BYTES / 2 ** 20).toFixed(0)} MiB + 150 MB = ${RSS_BUDGET_MB} MB; peak ${distkv.peakRssMb} MB; write amplification ${distkv.writeAmplification?.toFixed(2) ?? "-"}`,
  );
}

// The issue's goals, checked against this run.
const goals: [string, boolean | undefined][] = [];
const atLeast = (w: WorkloadName, x: number) => {
  const q = ratio(w);
  goals.push([
    `${w} >= ${x}x classic-level (${q?.toFixed(2) ?? "-"}x)`,
    q === undefined ? undefined : q >= x,
  ]);
};
atLeast("fillrandom", 2);
atLeast("readrandom-cold", 2);
atLeast("readrandom-hot", 2);
atLeast("batch-1000", 0.7);
atLeast("sync-put-64", 1);
const fillP99 = find("distkv-lsm", "fillrandom")?.p99Ms;
goals.push([
  `put p99 during fillrandom < 5 ms (${fillP99?.toFixed(3) ?? "-"} ms)`,
  fillP99 === undefined ? undefined : fillP99 < 5,
]);
goals.push([
  `peak RSS <= ${RSS_BUDGET_MB} MB (${distkv?.peakRssMb ?? "-"} MB)`,
  distkv === undefined ? undefined : distkv.peakRssMb <= RSS_BUDGET_MB,
]);
console.log("\ngoals:");
for (const [g, ok] of goals)
  console.log(`  ${ok === undefined ? "n/a " : ok ? "met " : "MISS"}  ${g}`);

mkdirSync(path.dirname(OUT), { recursive: true });
const engineInfo = (f: Extract<ChildReply, { type: "finished" }> | undefined) =>
  f === undefined
    ? null
    : { peakRssMb: f.peakRssMb, baselineRssMb: f.baselineRssMb, settleMs: f.settleMs };
writeFileSync(
  OUT,
  `${JSON.stringify(
    {
      results: results.map(({ engine, workload, opsPerSec, p50Ms, p99Ms, cpuUsPerOp }) => ({
        engine,
        workload,
        opsPerSec,
        p50Ms,
        p99Ms,
        cpuUsPerOp,
      })),
      writeAmplification: distkv?.writeAmplification ?? null,
      peakRssMb: distkv?.peakRssMb ?? null,
      rssBudgetMb: RSS_BUDGET_MB,
      engines: { "distkv-lsm": engineInfo(distkv), "classic-level": engineInfo(classic) },
      run: {
        keys: KEYS,
        reads: READS,
        syncOps: SYNC_OPS,
        node: process.version,
        cores: os.cpus().length,
        date: new Date().toISOString(),
      },
    },
    null,
    2,
  )}\n`,
);
console.log(`wrote ${OUT}`);
