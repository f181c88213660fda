/** The run's report: its JSON shape, the table on stdout and the files under bench-results/. */
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { renderChart } from "./chart.js";
import { findExecutable, runCommand } from "./process.js";
import type { TargetResult } from "./results.js";
import type { OperationKind, WorkloadName } from "./workload.js";

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  platform: string;
  loadAverageStart: number[];
  loadAverageEnd: number[];
}

export interface BenchReport {
  tool: "distkv-bench";
  startedAt: string;
  finishedAt: string;
  /** True when no target had an error or was skipped and every target got the configured mix. */
  valid: boolean;
  reasons: string[];
  config: {
    workload: WorkloadName;
    description: string;
    proportions: Record<OperationKind, number>;
    distribution: string;
    keyCount: number;
    valueBytes: number;
    concurrency: number;
    rounds: number;
    mode: "duration" | "operations";
    perRound: number | readonly number[];
    warmup: number;
    seed: number;
  };
  machine: MachineInfo;
  targets: TargetResult[];
  skipped: { target: string; reason: string; install: string }[];
  files?: { json: string; svg?: string; png?: string };
}

/** The repository root (where pnpm-workspace.yaml is), or the working directory. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "pnpm-workspace.yaml"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

export function defaultOutDir(): string {
  return join(repoRoot(), "bench-results");
}

const fmt = (x: number, digits = 2) =>
  x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Throughput ratio and p99 ratio of `r` to the baseline (the first target). */
export function ratios(
  r: TargetResult,
  baseline: TargetResult,
): { throughput: number; p99: number } {
  return {
    throughput: baseline.throughput > 0 ? r.throughput / baseline.throughput : 0,
    p99: baseline.latency.p99Ms > 0 ? r.latency.p99Ms / baseline.latency.p99Ms : 0,
  };
}

/** The results as a plain-text table. */
export function formatTable(report: BenchReport): string {
  const header = [
    "target",
    "ops",
    "ops/s",
    "p50 ms",
    "p90 ms",
    "p99 ms",
    "p99.9 ms",
    "max ms",
    "errors",
    "base/this ops/s",
    "this/base p99",
  ];
  const base = report.targets[0];
  const rows = report.targets.map((t) => {
    const errors = Object.values(t.errors).reduce((s, v) => s + v, 0);
    const r = base === undefined || t === base ? undefined : ratios(t, base);
    return [
      t.label,
      t.operations.toLocaleString("en-US"),
      fmt(t.throughput, 0),
      fmt(t.latency.p50Ms),
      fmt(t.latency.p90Ms),
      fmt(t.latency.p99Ms),
      fmt(t.latency.p999Ms),
      fmt(t.latency.maxMs),
      String(errors),
      r === undefined ? "-" : `${fmt(r.throughput > 0 ? 1 / r.throughput : 0)}x`,
      r === undefined ? "-" : `${fmt(r.p99)}x`,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  const c = report.config;
  const lines = [
    `workload ${c.workload.toUpperCase()} (${c.description}), ${c.distribution}, ${c.keyCount} keys, ${c.valueBytes} B values, ${c.concurrency} in flight, ${c.rounds} rounds of ${c.mode === "duration" ? `${fmt(Number(c.perRound) / 1000, 1)} s` : `${(c.perRound as number[])[0]} ops`} per target`,
    line(header),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map(line),
  ];
  if (base !== undefined && report.targets.length > 1) {
    lines.push(
      `ratios: "base/this ops/s" is ${base.label}'s throughput over the row's; "this/base p99" the row's p99 over ${base.label}'s (above 1: the base is faster)`,
    );
  }
  for (const s of report.skipped) lines.push(`skipped ${s.target}: ${s.reason} (${s.install})`);
  lines.push(
    report.valid ? "valid: yes" : `valid: NO\n${report.reasons.map((r) => `  - ${r}`).join("\n")}`,
  );
  lines.push(
    `machine: ${report.machine.cpus} cores (${report.machine.cpuModel}), Node ${report.machine.node}, load average ${report.machine.loadAverageStart.map((x) => x.toFixed(2)).join(" ")} at start`,
  );
  return lines.join("\n");
}

function fileStamp(iso: string): string {
  return iso.replace(/[:]/g, "").replace(/\..*$/, "").replace("T", "-");
}

/** Writes the JSON, the SVG chart and (with rsvg-convert installed) a PNG of it. */
export async function writeReport(
  report: BenchReport,
  outDir: string,
  chart: boolean,
): Promise<NonNullable<BenchReport["files"]>> {
  const dir = resolve(outDir);
  await mkdir(dir, { recursive: true });
  const base = join(
    dir,
    `${fileStamp(report.startedAt)}-${report.config.workload}-${report.targets.map((t) => t.name).join("-") || "none"}`,
  );
  const files: NonNullable<BenchReport["files"]> = { json: `${base}.json` };
  if (chart && report.targets.length > 0) {
    files.svg = `${base}.svg`;
    await writeFile(files.svg, renderChart(report));
    const rsvg = findExecutable("rsvg-convert");
    if (rsvg !== undefined) {
      try {
        await runCommand(rsvg, ["-o", `${base}.png`, files.svg]);
        files.png = `${base}.png`;
      } catch {
        // The SVG is the chart; the PNG is a convenience.
      }
    }
  }
  report.files = files;
  await writeFile(files.json, `${JSON.stringify(report, null, 2)}\n`);
  return files;
}
