/**
 * Operations per second of the hot paths (one request does about one decode, one update or
 * sync, one encode). Run: pnpm --filter @distkv/vclock bench  (or: npx tsx bench/ops.ts).
 * Each case runs for ~250 ms per round, 5 rounds; the median round is reported. Figures are
 * single runs on a shared machine: compare rows of one run, not runs.
 */
import {
  compareVersionVectors,
  context,
  createCodec,
  decodeContext,
  decodeSiblingSet,
  EMPTY_VERSION_VECTOR,
  emptySiblingSet,
  encodeContext,
  encodeSiblingSet,
  mergeVersionVectors,
  type SiblingSet,
  sync,
  update,
  type VersionVector,
} from "../src/index.js";

const ROUND_MS = 250;
const ROUNDS = 5;
let sink = 0;

function measure(name: string, fn: () => unknown): { name: string; opsPerSec: number } {
  for (let i = 0; i < 20_000; i++) fn(); // warm up the JIT
  const rates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let ops = 0;
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(ROUND_MS * 1e6);
    let now = start;
    while (now < deadline) {
      for (let i = 0; i < 1000; i++) {
        const out = fn();
        if (out === undefined) sink++;
      }
      ops += 1000;
      now = process.hrtime.bigint();
    }
    rates.push(ops / (Number(now - start) / 1e9));
  }
  rates.sort((a, b) => a - b);
  return { name, opsPerSec: rates[Math.floor(ROUNDS / 2)]! };
}

const nodes = ["distkv-node-1", "distkv-node-2", "distkv-node-3"];
const value = (n: number, seed: number) => new Uint8Array(n).fill(seed);

// A key written sequentially through all three replicas: 3-actor clock, one sibling.
let single: SiblingSet<Uint8Array> = emptySiblingSet();
for (let i = 0; i < 30; i++)
  single = update(single, context(single), value(100, i), nodes[i % 3]!, 1_700_000_000_000 + i);
// Three concurrent writes on top of it: three siblings.
let three: SiblingSet<Uint8Array> = single;
for (const n of nodes)
  three = sync(three, update(single, context(single), value(100, 7), n, 1_700_000_000_100));
// The same with 1 KiB values.
let threeKiB: SiblingSet<Uint8Array> = single;
for (const n of nodes)
  threeKiB = sync(threeKiB, update(single, context(single), value(1024, 7), n, 1_700_000_000_100));

const singleBytes = encodeSiblingSet(single);
const threeBytes = encodeSiblingSet(three);
const threeKiBBytes = encodeSiblingSet(threeKiB);
const ctx: VersionVector = context(three);
const ctxBytes = encodeContext(ctx);
const small = value(100, 9);
const views = createCodec({ copyValues: false });
const staleReplica = single;
const newer = update(single, context(single), value(100, 1), nodes[0]!, 1_700_000_000_200);
const copyOfSingle = decodeSiblingSet(singleBytes);
const a = update(single, context(single), value(100, 2), nodes[1]!, 1);
const b = update(single, context(single), value(100, 3), nodes[2]!, 1);

// Map-based baseline for the vector operations (what the sorted arrays replace).
const mapA = new Map(a.clock);
const mapB = new Map(b.clock);
function mapMerge(x: Map<string, number>, y: Map<string, number>): Map<string, number> {
  const out = new Map(x);
  for (const [k, v] of y) if ((out.get(k) ?? 0) < v) out.set(k, v);
  return out;
}
function mapCompare(x: Map<string, number>, y: Map<string, number>): string {
  let xa = false;
  let ya = false;
  for (const [k, v] of x) {
    const w = y.get(k) ?? 0;
    if (v > w) xa = true;
    else if (v < w) ya = true;
  }
  for (const [k, v] of y) if (!x.has(k) && v > 0) ya = true;
  return xa ? (ya ? "concurrent" : "after") : ya ? "before" : "equal";
}

const results = [
  measure("encodeSiblingSet, 1 sibling x 100 B", () => encodeSiblingSet(single)),
  measure("decodeSiblingSet, 1 sibling x 100 B", () => decodeSiblingSet(singleBytes)),
  measure("decodeSiblingSet, 1 sibling x 100 B, copyValues:false", () =>
    views.decodeSiblingSet(singleBytes),
  ),
  measure("encodeSiblingSet, 3 siblings x 100 B", () => encodeSiblingSet(three)),
  measure("decodeSiblingSet, 3 siblings x 100 B", () => decodeSiblingSet(threeBytes)),
  measure("encodeSiblingSet, 3 siblings x 1 KiB", () => encodeSiblingSet(threeKiB)),
  measure("decodeSiblingSet, 3 siblings x 1 KiB", () => decodeSiblingSet(threeKiBBytes)),
  measure("encodeContext, 3 actors", () => encodeContext(ctx)),
  measure("decodeContext, 3 actors", () => decodeContext(ctxBytes)),
  measure("update with read context (overwrite), 1 sibling", () =>
    update(single, context(single), small, nodes[1]!, 1_700_000_000_300),
  ),
  measure("update with read context, 3 siblings -> 1", () =>
    update(three, ctx, single.siblings[0]!.value, nodes[0]!, 1_700_000_000_300),
  ),
  measure("update blind (empty context), 3 siblings -> 4", () =>
    update(three, EMPTY_VERSION_VECTOR, null, nodes[0]!, 1_700_000_000_300),
  ),
  measure("sync identical replicas (read repair, nothing to do)", () => sync(single, copyOfSingle)),
  measure("sync stale replica with newer version", () => sync(staleReplica, newer)),
  measure("sync two concurrent versions", () => sync(a, b)),
  measure("decode + update + encode (one coordinator write)", () => {
    const s = decodeSiblingSet(singleBytes);
    return encodeSiblingSet(update(s, context(s), small, nodes[0]!, 1_700_000_000_300));
  }),
  measure("compareVersionVectors, 3 actors (sorted arrays)", () =>
    compareVersionVectors(a.clock, b.clock),
  ),
  measure("compare, 3 actors (Map baseline)", () => mapCompare(mapA, mapB)),
  measure("mergeVersionVectors, 3 actors, concurrent (sorted arrays)", () =>
    mergeVersionVectors(a.clock, b.clock),
  ),
  measure("merge, 3 actors, concurrent (Map baseline)", () => mapMerge(mapA, mapB)),
];

console.log(`Node ${process.version}, ${process.platform}/${process.arch}`);
console.log(
  `encoded sizes: 1x100 B set ${singleBytes.length} B, 3x100 B set ${threeBytes.length} B, context ${ctxBytes.length} B`,
);
console.log("| operation | ops/s |\n| --- | ---: |");
for (const r of results)
  console.log(`| ${r.name} | ${Math.round(r.opsPerSec).toLocaleString("en-US")} |`);
if (sink < 0) console.log(sink);
