/**
 * The two engines behind one interface for the side-by-side benchmark, each with the same
 * budgets (4 MiB write buffer, 8 MiB block cache: both engines' defaults), and a way to wait
 * until each has finished the background work its writes left behind.
 */

import { setTimeout as sleep } from "node:timers/promises";

// Each engine's modules are imported only by the process that runs it, so that neither
// engine's code (LevelDB's native addon, say) counts in the other's RSS.

export const WRITE_BUFFER_BYTES = 4 << 20;
export const BLOCK_CACHE_BYTES = 8 << 20;
/** Frozen memtables allowed besides the active one (distkv's default). */
export const MAX_IMMUTABLE_MEMTABLES = 2;

export type EngineName = "distkv-lsm" | "classic-level";

export interface Engine {
  name: EngineName;
  put(k: Uint8Array, v: Uint8Array, sync?: boolean): Promise<void>;
  get(k: Uint8Array): Promise<Uint8Array | undefined>;
  batch(entries: [Uint8Array, Uint8Array][]): Promise<void>;
  scan(k: Uint8Array, n: number): Promise<number>;
  close(): Promise<void>;
  /**
   * Waits until no flush or compaction is due or running (at most `maxMs`); returns how long
   * that took. Background work left by a write workload is thus neither charged to the next
   * workload nor run while the other engine is measured.
   */
  settle(maxMs: number): Promise<number>;
  writeAmplification(): number | undefined;
}

export async function openDistkv(dir: string): Promise<Engine> {
  const { open } = await import("../src/db.js");
  const { WriteBatch } = await import("../src/write-batch.js");
  const db = await open(dir, {
    writeBufferBytes: WRITE_BUFFER_BYTES,
    blockCacheBytes: BLOCK_CACHE_BYTES,
    maxImmutableMemtables: MAX_IMMUTABLE_MEMTABLES,
  });
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
    settle: (maxMs) =>
      settle(maxMs, 20, 3, () => {
        // The engine's own trigger: a level scoring >= 1 gets compacted, a frozen memtable
        // flushed.
        const s = db.stats();
        return s.memtable.immutable > 0 || s.levels.some((l) => l.score >= 1) ? "busy" : "idle";
      }),
    writeAmplification: () => db.stats().writeAmplification,
  };
}

export async function openClassic(dir: string): Promise<Engine> {
  const { ClassicLevel } = await import("classic-level");
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, {
    keyEncoding: "view",
    valueEncoding: "view",
    writeBufferSize: WRITE_BUFFER_BYTES,
    cacheSize: BLOCK_CACHE_BYTES,
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
    settle: (maxMs) => {
      // LevelDB does not say whether a compaction is running. Its stats change when one
      // finishes, so: idle once no level is over LevelDB's own trigger and the stats have not
      // changed for a second.
      let last = "";
      return settle(maxMs, 100, 10, () => {
        const stats = db.getProperty("leveldb.stats");
        const changed = stats !== last;
        last = stats;
        return levelDbOverBudget(stats) ? "busy" : changed ? "changed" : "idle";
      });
    },
    writeAmplification: () => undefined,
  };
}

/**
 * Polls `probe` every `everyMs` until it said "idle" `quiet` times in a row (or maxMs passed);
 * returns the milliseconds waited.
 */
async function settle(
  maxMs: number,
  everyMs: number,
  quiet: number,
  probe: () => "busy" | "changed" | "idle",
): Promise<number> {
  const t0 = performance.now();
  let idle = 0;
  while (performance.now() - t0 < maxMs) {
    idle = probe() === "idle" ? idle + 1 : 0;
    if (idle >= quiet) break;
    await sleep(everyMs);
  }
  return Math.round(performance.now() - t0);
}

/**
 * True if LevelDB's compaction trigger holds for some level of a "leveldb.stats" report: 4 or
 * more level-0 files, or level n >= 1 over 10^n MiB (its defaults).
 */
export function levelDbOverBudget(stats: string): boolean {
  for (const line of stats.split("\n")) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s/.exec(line);
    if (m === null) continue;
    const level = Number(m[1]);
    const files = Number(m[2]);
    const mb = Number(m[3]);
    if (level === 0 ? files >= 4 : mb > 10 ** level) return true;
  }
  return false;
}
