/**
 * Micro-benchmarks of the on-disk format code: crc32c, block build/read, table build/point
 * lookups, bloom filter. Run: pnpm --filter @distkv/lsm exec tsx bench/formats-bench.ts
 */
import { BlockCache } from "../src/cache/block-cache.js";
import { BloomFilterBuilder, bloomHash, bloomMayContainHash } from "../src/filter/bloom.js";
import { MemoryFileSystem } from "../src/fs/memory-fs.js";
import { BlockBuilder } from "../src/sstable/block-builder.js";
import { BlockIterator } from "../src/sstable/block-reader.js";
import { TableBuilder } from "../src/sstable/table-builder.js";
import { TableReader } from "../src/sstable/table-reader.js";
import { compareBytes } from "../src/util/compare-bytes.js";
import { crc32c } from "../src/util/crc32c.js";

function time(label: string, unitCount: number, unit: string, fn: () => void, reps = 5): number {
  fn(); // warm up
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    if (dt < best) best = dt;
  }
  const rate = unitCount / best;
  console.log(`${label.padEnd(44)} ${rate.toFixed(1).padStart(12)} ${unit}`);
  return rate;
}

const big = new Uint8Array(16 << 20);
for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
let sink = 0;
time("crc32c 16 MiB buffer", 16, "MB/s", () => {
  sink ^= crc32c(big);
});
const small = big.subarray(0, 128);
time("crc32c 128-byte records (1M)", 128, "MB/s", () => {
  for (let i = 0; i < 1_000_000; i++) sink ^= crc32c(small);
});

// 16-byte keys + 8-byte trailer, 100-byte values, as the benchmark's workloads.
const N = 200_000;
const keys: Uint8Array[] = [];
for (let i = 0; i < N; i++) {
  const k = new Uint8Array(24);
  const s = `key${String(i).padStart(13, "0")}`;
  for (let j = 0; j < 16; j++) k[j] = s.charCodeAt(j);
  keys.push(k);
}
const value = new Uint8Array(100).fill(42);

const perBlock = 32; // about 4 KiB of entries
time(`block build (${perBlock} x 124 B entries)`, (N * 124) / 1e6, "MB/s", () => {
  const b = new BlockBuilder(16);
  for (let i = 0; i < N; i++) {
    if (i % perBlock === 0) b.reset();
    b.add(keys[i]!, value);
    if (i % perBlock === perBlock - 1) sink ^= b.finish().length;
  }
});
const blocks: Uint8Array[] = [];
{
  const b = new BlockBuilder(16);
  for (let i = 0; i < N; i++) {
    b.add(keys[i]!, value);
    if (i % perBlock === perBlock - 1) {
      blocks.push(b.finish().slice());
      b.reset();
    }
  }
}
time("block scan (forward)", (N * 124) / 1e6, "MB/s", () => {
  for (const blk of blocks) {
    const it = new BlockIterator(blk, compareBytes);
    for (it.seekToFirst(); it.valid(); it.next()) sink ^= it.value().length;
  }
});
time("block seek (random key in its block)", N / 1e6, "M seeks/s", () => {
  for (let i = 0; i < N; i++) {
    const j = (i * 7919) % N;
    const it = new BlockIterator(blocks[Math.floor(j / perBlock)]!, compareBytes);
    it.seek(keys[j]!);
    sink ^= it.key().length;
  }
});

const fs = new MemoryFileSystem();
const filterKey = (k: Uint8Array) => k.subarray(0, 16);
let tableBytes = 0;
// Handles are created up front: the timed loop is synchronous (finish() only syncs and closes).
const handles = await Promise.all([0, 1, 2, 3].map((i) => fs.createWritable(`/t${i}.sst`)));
let build = 0;
time(
  "table build (200k entries, MemoryFileSystem)",
  (N * 124) / 1e6,
  "MB/s",
  () => {
    const b = new TableBuilder(handles[build++]!, { compare: compareBytes, filterKey });
    for (let i = 0; i < N; i++) b.add(keys[i]!, value);
    tableBytes = b.estimatedSize();
    void b.finish();
  },
  3,
);
await fs.rename("/t3.sst", "/t.sst");
await new Promise((r) => setTimeout(r, 10));
const cache = new BlockCache(64 << 20);
const reader = TableReader.openSync(fs.openReadableSync("/t.sst"), {
  compare: compareBytes,
  filterKey,
  fileNumber: 1,
  cache,
});
time("table get, hot cache (random keys)", N / 1e6, "M gets/s", () => {
  for (let i = 0; i < N; i++) sink ^= reader.get(keys[(i * 7919) % N]!)!.value.length;
});
const nocache = TableReader.openSync(fs.openReadableSync("/t.sst"), {
  compare: compareBytes,
  filterKey,
  fileNumber: 2,
});
time("table get, no cache (read+crc per get)", N / 1e6, "M gets/s", () => {
  for (let i = 0; i < N; i++) sink ^= nocache.get(keys[(i * 7919) % N]!)!.value.length;
});

const fb = new BloomFilterBuilder(10);
for (let i = 0; i < N; i++) fb.addKey(filterKey(keys[i]!));
const filter = fb.finish();
let fp = 0;
const probes = 1_000_000;
time("bloom probe (hash + check)", probes / 1e6, "M probes/s", () => {
  fp = 0;
  const k = new Uint8Array(16);
  for (let i = 0; i < probes; i++) {
    k[0] = 200;
    k[1] = i & 0xff;
    k[2] = (i >>> 8) & 0xff;
    k[3] = (i >>> 16) & 0xff;
    if (bloomMayContainHash(filter, bloomHash(k))) fp++;
  }
});
console.log(
  `bloom false-positive rate at 10 bits/key: ${((fp / probes) * 100).toFixed(3)}% (${N} keys, ${probes} absent probes)`,
);
console.log(`table size ${(tableBytes / 1e6).toFixed(1)} MB for ${N} entries; sink ${sink & 1}`);
