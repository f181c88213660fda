/**
 * What an exchange costs: bytes, round trips and time of diffTrees between two trees that hold
 * N keys and differ in d of them (a third changed on one side, a third missing on each side),
 * for several N and d; plus insert throughput and memory per entry. Prints Markdown tables.
 *
 *   pnpm --filter @distkv/merkle bench            # N up to 1,000,000
 *   npx tsx bench/diff-bytes.ts --max 100000       # smaller
 */
import { diffTrees, inProcessRemote, MerkleTree } from "../src/index.js";
import { sha256Token } from "../test/support.js";

const arg = process.argv.indexOf("--max");
const max = arg > 0 ? Number(process.argv[arg + 1]) : 1_000_000;
const sizes = [1_000, 10_000, 100_000, 1_000_000].filter((n) => n <= max);
const diffs = [0, 1, 10, 100, 1_000];
const utf8 = new TextEncoder();
const key = (i: number) => utf8.encode(`user:${i.toString().padStart(8, "0")}`);
// About the size of an encoded sibling set with one small value.
const version = (i: number, gen: number) => utf8.encode(`${"x".repeat(40)}:${i}:${gen}`);

function build(n: number): MerkleTree {
  const t = new MerkleTree({ tokenOf: sha256Token });
  for (let i = 0; i < n; i++) t.set(key(i), version(i, 0));
  return t;
}

/** Applies d differences to `right` (undone afterwards by `restore`). */
function perturb(left: MerkleTree, right: MerkleTree, n: number, d: number): () => void {
  const undo: Array<() => void> = [];
  for (let j = 0; j < d; j++) {
    const i = Math.floor(((j + 0.5) * n) / d);
    const k = key(i);
    if (j % 3 === 0) {
      right.set(k, version(i, 1));
      undo.push(() => right.set(k, version(i, 0)));
    } else if (j % 3 === 1) {
      right.delete(k);
      undo.push(() => right.set(k, version(i, 0)));
    } else {
      left.delete(k);
      undo.push(() => left.set(k, version(i, 0)));
    }
  }
  return () => {
    for (const f of undo) f();
  };
}

console.log(`Node ${process.version}, ${new Date().toISOString()}`);
console.log(
  "\n| keys | differing | found | bytes sent | bytes received | total bytes | bytes per differing key | round trips | ms |",
);
console.log("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
const build_rows: string[] = [];
for (const n of sizes) {
  globalThis.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const left = build(n);
  const buildMs = performance.now() - t0;
  globalThis.gc?.();
  const perEntry = (process.memoryUsage().heapUsed - heap0) / n;
  const right = build(n);
  build_rows.push(
    `| ${n.toLocaleString("en")} | ${Math.round(n / (buildMs / 1000)).toLocaleString("en")} | ${globalThis.gc ? perEntry.toFixed(0) : "(run with --expose-gc)"} |`,
  );
  for (const d of diffs) {
    const restore = perturb(left, right, n, d);
    const t1 = performance.now();
    const r = await diffTrees(left, inProcessRemote(right));
    const ms = performance.now() - t1;
    const total = r.bytesSent + r.bytesReceived;
    console.log(
      `| ${n.toLocaleString("en")} | ${d} | ${r.differences.length} | ${r.bytesSent.toLocaleString("en")} | ${r.bytesReceived.toLocaleString("en")} | ${total.toLocaleString("en")} | ${d === 0 ? "-" : Math.round(total / d)} | ${r.roundTrips} | ${ms.toFixed(1)} |`,
    );
    restore();
  }
}
console.log(
  "\n| keys | inserts per second (set: token, SHA-256, leaf XOR) | heap bytes per entry |",
);
console.log("| ---: | ---: | ---: |");
for (const row of build_rows) console.log(row);
