/**
 * Micro-benchmark: lookups per second for preferenceList(key, 3) and tokenOf(key) on rings of
 * 3, 16 and 64 nodes with the default 150 virtual nodes, for string keys (UTF-8 hashed) and
 * Uint8Array keys. Run: pnpm --filter @distkv/ring bench  [-- --seconds 1]
 */
import { HashRing, tokenOf } from "../src/index.js";

const secondsArg = process.argv.indexOf("--seconds");
const SECONDS = secondsArg > 0 ? Number(process.argv[secondsArg + 1]) : 1;
const KEY_COUNT = 100_000;

// Deterministic keys (xorshift32) so runs are comparable.
let seed = 0x2545f491;
function next(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return seed >>> 0;
}
const stringKeys = Array.from({ length: KEY_COUNT }, () => `user:${next() % 10_000_000}`);
const encoder = new TextEncoder();
const byteKeys = stringKeys.map((k) => encoder.encode(k));

let sink = 0;

/** Runs `op` over all keys repeatedly for about SECONDS; returns operations per second. */
function measure<K>(keys: readonly K[], op: (key: K) => unknown): number {
  for (const k of keys) op(k); // warm-up pass
  let ops = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    for (let i = 0; i < keys.length; i++) {
      const r = op(keys[i]!);
      if (r === undefined) sink++;
    }
    ops += keys.length;
    elapsed = performance.now() - start;
  } while (elapsed < SECONDS * 1000);
  return ops / (elapsed / 1000);
}

function fmt(perSecond: number): string {
  return `${(perSecond / 1e6).toFixed(2)} M/s`;
}

console.log(
  `@distkv/ring lookup benchmark: Node ${process.version}, ${KEY_COUNT} distinct keys ` +
    `(~12 bytes), ${SECONDS}s per cell\n`,
);
const rows: string[][] = [];
for (const nodes of [3, 16, 64]) {
  const ring = new HashRing();
  const t0 = performance.now();
  for (let i = 1; i <= nodes; i++) ring.addNode(`node-${i}`);
  ring.preferenceList("warm", 3); // the first lookup builds the index
  const buildMs = performance.now() - t0;
  rows.push([
    String(nodes),
    String(ring.vnodeCount),
    fmt(measure(stringKeys, (k) => ring.preferenceList(k, 3))),
    fmt(measure(byteKeys, (k) => ring.preferenceList(k, 3))),
    fmt(measure(stringKeys, (k) => tokenOf(k))),
    fmt(measure(byteKeys, (k) => tokenOf(k))),
    `${buildMs.toFixed(1)} ms`,
  ]);
}
const header = [
  "nodes",
  "vnodes",
  "preferenceList(str,3)",
  "preferenceList(bytes,3)",
  "tokenOf(str)",
  "tokenOf(bytes)",
  "add all + build",
];
const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
const line = (cells: string[]) => `| ${cells.map((x, c) => x.padEnd(widths[c]!)).join(" | ")} |`;
console.log(line(header));
console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
for (const r of rows) console.log(line(r));
if (sink === -1) console.log(sink);
