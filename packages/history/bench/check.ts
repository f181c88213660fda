/**
 * Checker throughput on generated histories (test/generate.ts: clients issue operations back to
 * back, latencies uniform in (0.1, 10] ms, think time up to 3 ms, so about C operations overlap
 * at any instant). 50% reads, 45% writes, 5% deletes, 5% info, 2% fail.
 *
 * Run: pnpm --filter @distkv/history bench   (or: npx tsx bench/check.ts [--quick])
 */
import type { Operation } from "../src/index.js";
import {
  checkDeadlines,
  checkLinearizability,
  checkSessions,
  checkSets,
  parseJSONL,
  toJSONL,
} from "../src/index.js";
import { generateHistory, Rng } from "../test/generate.js";

const quick = process.argv.includes("--quick");
const TIME_LIMIT_MS = 20_000;

function fmtRate(n: number, ms: number): string {
  const r = n / (ms / 1000);
  return r >= 1e6 ? `${(r / 1e6).toFixed(2)} M/s` : `${Math.round(r / 1000)}k/s`;
}

function row(cells: (string | number)[]): string {
  return `| ${cells.join(" | ")} |`;
}

/** Adds one stale read on key k0: a read after the last completed write of k0, of an older value. */
function withStaleRead(history: Operation[]): Operation[] {
  const writes = history
    .filter((o) => o.key === "k0" && o.type === "write" && o.outcome === "ok")
    .sort((a, b) => a.completeMs! - b.completeMs!);
  const last = writes.at(-1)!;
  const older = writes.find((w) => w.completeMs! < last.invokeMs)!;
  const t = last.completeMs! + 0.01;
  return [
    ...history,
    {
      id: history.length,
      process: "stale",
      key: "k0",
      type: "read",
      values: [older.value!],
      invokeMs: t,
      completeMs: t + 0.01,
      outcome: "ok",
    },
  ];
}

console.log(
  `@distkv/history checker benchmark: Node ${process.version}, ${quick ? "quick" : "full"} run, ` +
    `time limit ${TIME_LIMIT_MS / 1000} s per check\n`,
);

console.log(
  "Linearizability (checkLinearizability, default options), atomic-register histories:\n",
);
console.log(row(["ops", "keys", "clients", "verdict", "states", "time", "ops/s", "memo peak"]));
console.log(row(["--:", "--:", "--:", "---", "--:", "--:", "--:", "--:"]));
const configs: [number, number, number][] = quick
  ? [
      [10_000, 1, 5],
      [10_000, 10, 10],
    ]
  : [
      [1_000, 1, 2],
      [1_000, 1, 5],
      [1_000, 1, 10],
      [1_000, 1, 20],
      [10_000, 1, 2],
      [10_000, 1, 5],
      [10_000, 1, 10],
      [10_000, 1, 15],
      [10_000, 1, 20],
      [10_000, 10, 10],
      [10_000, 10, 20],
      [10_000, 100, 50],
      [100_000, 100, 20],
    ];
for (const [ops, keys, clients] of configs) {
  const history = generateHistory({
    seed: 42,
    clients,
    opsPerClient: Math.round(ops / clients),
    keys,
    model: "register",
  });
  // The memo lives in typed arrays: sample their memory whenever the search reads the clock
  // (every 1024 steps) to get the peak.
  let peak = 0;
  const now = () => {
    peak = Math.max(peak, process.memoryUsage().arrayBuffers);
    return performance.now();
  };
  // Best of up to 3 runs for quick cells: the machine is shared and noisy.
  let best = Number.POSITIVE_INFINITY;
  let r: ReturnType<typeof checkLinearizability> | undefined;
  let memo = 0;
  for (let run = 0; run < 3 && (run === 0 || best < 1000); run++) {
    const base = process.memoryUsage().arrayBuffers;
    peak = base;
    const t0 = performance.now();
    r = checkLinearizability(history, { timeLimitMs: TIME_LIMIT_MS, now });
    best = Math.min(best, performance.now() - t0);
    memo = Math.max(memo, peak - base);
  }
  const verdict =
    r!.verdict === "unknown"
      ? `unknown (${r!.keys.find((k) => k.unknownReason)?.unknownReason})`
      : r!.verdict;
  console.log(
    row([
      history.length,
      keys,
      clients,
      verdict,
      r!.statesExplored,
      `${best.toFixed(0)} ms`,
      fmtRate(history.length, best),
      `${(memo / 2 ** 20).toFixed(0)} MiB`,
    ]),
  );
}

console.log(
  "\nFinding a violation: the same histories plus one stale read on k0 (search + shrink):\n",
);
console.log(row(["ops", "keys", "clients", "verdict", "witness ops", "states", "time"]));
console.log(row(["--:", "--:", "--:", "---", "--:", "--:", "--:"]));
for (const [ops, keys, clients] of quick
  ? ([[10_000, 1, 5]] as const)
  : ([
      [1_000, 1, 5],
      [10_000, 1, 5],
      [10_000, 1, 10],
      [10_000, 10, 10],
    ] as const)) {
  const history = withStaleRead(
    generateHistory({
      seed: 7,
      clients,
      opsPerClient: Math.round(ops / clients),
      keys,
      model: "register",
    }),
  );
  const t0 = performance.now();
  const r = checkLinearizability(history, { timeLimitMs: TIME_LIMIT_MS });
  const ms = performance.now() - t0;
  const a = r.keys.flatMap((k) => k.anomalies).find((x) => x.kind === "nonlinearizable");
  console.log(
    row([
      history.length,
      keys,
      clients,
      r.verdict,
      a?.kind === "nonlinearizable" ? a.witness.length : "-",
      r.statesExplored,
      `${ms.toFixed(0)} ms`,
    ]),
  );
}

const N = quick ? 20_000 : 100_000;
console.log(`\nOther checkers on ${N} operations:\n`);
console.log(row(["checker", "history", "time", "ops/s"]));
console.log(row(["---", "---", "--:", "--:"]));
{
  const causal = generateHistory({
    seed: 3,
    clients: 20,
    opsPerClient: N / 20,
    keys: 10,
    model: "causal",
    coordinators: ["n1", "n2", "n3"],
  });
  let t0 = performance.now();
  const s = checkSessions(causal);
  let ms = performance.now() - t0;
  console.log(
    row([
      "checkSessions",
      `causal store, 20 clients, 10 keys, contexts on half the writes (${s.verdict})`,
      `${ms.toFixed(0)} ms`,
      fmtRate(causal.length, ms),
    ]),
  );

  t0 = performance.now();
  const d = checkDeadlines(causal);
  ms = performance.now() - t0;
  console.log(
    row([
      "checkDeadlines",
      `same history (${d.verdict})`,
      `${ms.toFixed(0)} ms`,
      fmtRate(causal.length, ms),
    ]),
  );

  const rng = new Rng(5);
  const adds: Operation[] = [];
  const finals = new Map<string, string[]>();
  for (let i = 0; i < N - 10; i++) {
    const key = `s${i % 10}`;
    const outcome = rng.next() < 0.9 ? "ok" : rng.next() < 0.5 ? "info" : "fail";
    adds.push({
      id: i,
      process: `c${i % 20}`,
      key,
      type: "add",
      value: `e${i}`,
      invokeMs: i,
      completeMs: i + 1,
      outcome,
    });
    if (outcome === "ok") finals.set(key, [...(finals.get(key) ?? []), `e${i}`]);
  }
  for (const [key, values] of finals) {
    adds.push({
      id: adds.length,
      process: "final",
      key,
      type: "read",
      values,
      invokeMs: N * 2,
      completeMs: N * 2 + 1,
      outcome: "ok",
    });
  }
  t0 = performance.now();
  const sets = checkSets(adds);
  ms = performance.now() - t0;
  console.log(
    row([
      "checkSets",
      `${N - 10} adds on 10 keys + final reads (${sets.verdict})`,
      `${ms.toFixed(0)} ms`,
      fmtRate(adds.length, ms),
    ]),
  );

  t0 = performance.now();
  const text = toJSONL(causal);
  const back = parseJSONL(text);
  ms = performance.now() - t0;
  console.log(
    row([
      "toJSONL + parseJSONL",
      `${(text.length / 2 ** 20).toFixed(1)} MiB (${back.length} ops)`,
      `${ms.toFixed(0)} ms`,
      fmtRate(causal.length, ms),
    ]),
  );
}
