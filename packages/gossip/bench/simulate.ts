/**
 * Runs the cluster scenarios of test/scenarios.ts over many seeds and prints the distributions
 * quoted in the README. Simulated time: the figures do not depend on the machine.
 *
 *   pnpm --filter @distkv/gossip bench            # 100 seeds per scenario
 *   SEEDS=20 pnpm --filter @distkv/gossip bench
 */
import { GOSSIP_PRESETS, retransmitLimit, suspicionBounds } from "../src/index.js";
import {
  deathScenario,
  joinScenario,
  LAN_64_CLEAN,
  LAN_64_LOSSY,
  leaveScenario,
  type NetworkCase,
  partitionScenario,
  pauseScenario,
  quantile,
  type StabilityResult,
  stabilityScenario,
} from "../test/scenarios.js";

const SEEDS = Number(process.env.SEEDS ?? 100);
const ONLY = process.env.ONLY;
const lan = GOSSIP_PRESETS.lan;
const bounds = suspicionBounds(lan, 64);
const seeds = Array.from({ length: SEEDS }, (_, i) => i + 1);

function fmt(ms: number): string {
  return Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : "never";
}

function row(label: string, values: readonly (number | undefined)[]): string {
  const p50 = quantile(values, 0.5);
  const p99 = quantile(values, 0.99);
  const max = quantile(values, 1);
  return `| ${label} | ${fmt(p50)} | ${fmt(p99)} | ${fmt(max)} | ${(max / lan.probeIntervalMs).toFixed(1)} |`;
}

function caseName(c: NetworkCase): string {
  return `${c.nodes} nodes, loss ${c.loss * 100}%, delay ${c.minDelayMs}-${c.maxDelayMs} ms`;
}

async function main(): Promise<void> {
  const started = performance.now();
  console.log(
    `lan preset, n=64: suspicion min ${bounds.minMs.toFixed(0)} ms, max ${bounds.maxMs.toFixed(0)} ms, k=${bounds.confirmations}; retransmit limit ${retransmitLimit(lan.retransmitMultiplier, 64)}; ${SEEDS} seeds per scenario`,
  );
  for (const c of [LAN_64_CLEAN, LAN_64_LOSSY]) {
    if (ONLY !== undefined && !ONLY.includes("detect")) break;
    console.log(`\n### ${caseName(c)}\n`);
    console.log("| measure | p50 | p99 | max | max in probe intervals |");
    console.log("| --- | ---: | ---: | ---: | ---: |");
    const joins = [];
    for (const s of seeds) joins.push(await joinScenario(s, c));
    console.log(
      row(
        "join known by all (from join())",
        joins.map((r) => r.allKnowMs),
      ),
    );
    const deaths = [];
    for (const s of seeds) deaths.push(await deathScenario(s, c));
    console.log(
      row(
        "crash: first suspicion",
        deaths.map((r) => r.firstSuspectMs),
      ),
    );
    console.log(
      row(
        "crash: first declared dead",
        deaths.map((r) => r.firstDeadMs),
      ),
    );
    console.log(
      row(
        "crash: dead for all live members",
        deaths.map((r) => r.allDeadMs),
      ),
    );
    const leaves = [];
    for (const s of seeds) leaves.push(await leaveScenario(s, c));
    console.log(
      row(
        "leave known by all (from leave())",
        leaves.map((r) => r.allKnowMs),
      ),
    );
    const falseDeaths = deaths.reduce((a, r) => a + r.falseDeaths, 0);
    console.log(
      `\nfalse deaths during the crash runs: ${falseDeaths}; leaves resolved true: ${leaves.filter((r) => r.propagated).length}/${SEEDS}; dead events about leavers: ${leaves.reduce((a, r) => a + r.deadEvents, 0)}`,
    );
  }
  if (ONLY === undefined || ONLY.includes("stable")) {
    const durationMs = 300_000;
    const runs = Math.max(1, Math.round(SEEDS / 5));
    const results: StabilityResult[] = [];
    for (const s of seeds.slice(0, runs))
      results.push(await stabilityScenario(s, LAN_64_LOSSY, durationMs));
    const total = (f: (r: StabilityResult) => number): number =>
      results.reduce((a, r) => a + f(r), 0);
    const simSeconds = (runs * durationMs) / 1000;
    console.log(
      `\n### stability: ${caseName(LAN_64_LOSSY)}, ${runs} runs x ${durationMs / 1000} s, nothing fails\n`,
    );
    console.log(`false deaths: ${total((r) => r.falseDeaths)}`);
    console.log(
      `suspicions (distinct, refuted): ${total((r) => r.refutations)} = ${(total((r) => r.refutations) / simSeconds).toFixed(3)}/s cluster-wide; suspect events ${total((r) => r.suspectEvents)}`,
    );
    console.log(
      `datagrams per node per second: ${(total((r) => r.datagrams) / simSeconds / 64).toFixed(1)}`,
    );
  }
  if (ONLY === undefined || ONLY.includes("pause")) {
    console.log(`\n### pause (SIGSTOP) of one member, ${caseName(LAN_64_LOSSY)}\n`);
    console.log(
      "| pause | runs declared dead by anyone | paused node declared others dead | p99 back to alive for all |",
    );
    console.log("| ---: | ---: | ---: | ---: |");
    for (const frac of [0.5, 0.9, 1.0, 1.2, 1.5]) {
      const pauseMs = frac * bounds.minMs;
      const results = [];
      for (const s of seeds.slice(0, Math.max(1, Math.round(SEEDS / 2)))) {
        results.push(await pauseScenario(s, LAN_64_LOSSY, pauseMs));
      }
      console.log(
        `| ${(pauseMs / 1000).toFixed(2)} s (${frac} x min suspicion) | ${results.filter((r) => r.declaredDeadBy > 0).length}/${results.length} | ${results.reduce((a, r) => a + r.declaredByVictim, 0)} | ${fmt(
          quantile(
            results.map((r) => r.recoveredMs),
            0.99,
          ),
        )} |`,
      );
    }
  }
  if (ONLY === undefined || ONLY.includes("partition")) {
    console.log(`\n### partition into two halves, then heal, ${caseName(LAN_64_LOSSY)}\n`);
    console.log("| partition | sides split | p50 converge | p99 | max | same-side deaths |");
    console.log("| ---: | ---: | ---: | ---: | ---: | ---: |");
    for (const partitionMs of [60_000, 300_000]) {
      const results = [];
      for (const s of seeds.slice(0, Math.max(1, Math.round(SEEDS / 5)))) {
        results.push(await partitionScenario(s, LAN_64_LOSSY, partitionMs));
      }
      const conv = results.map((r) => r.convergeMs);
      console.log(
        `| ${partitionMs / 1000} s | ${results.filter((r) => r.sidesSplit).length}/${results.length} | ${fmt(quantile(conv, 0.5))} | ${fmt(quantile(conv, 0.99))} | ${fmt(quantile(conv, 1))} | ${results.reduce((a, r) => a + r.sameSideDeaths, 0)} |`,
      );
    }
  }
  console.log(
    `\n(${((performance.now() - started) / 1000).toFixed(0)} s of real time on this machine)`,
  );
}

await main();
