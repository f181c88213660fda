/**
 * Power loss: seeded runs of puts, deletes, batches (sync and not), flushes, range compactions,
 * clean reopens (and with them manifest swaps), on the MemoryFileSystem, which keeps synced and
 * unsynced bytes and directory entries apart. At a random point (possibly with writes in flight
 * and background work half done) the power is cut: `crash()` keeps only what was durable, with
 * optional torn last pages and a random prefix of unsynced directory operations. The database
 * reopened on that image must:
 *   - open cleanly (no corruption, no missing file),
 *   - equal the model after some prefix of the operation history (prefix consistency), and
 *   - that prefix must include every acknowledged sync write, and everything before a completed
 *     flush(), compactRange() or close().
 * A failure names its seed; rerun one with SEED=<n>.
 */

import { describe, expect, it } from "vitest";
import type { DbOptions } from "../../src/index.js";
import { type Db, MemoryFileSystem, open } from "../../src/index.js";
import { CrashPointFileSystem } from "./crash-point-fs.js";
import { dbFingerprint, Model, rng, TINY } from "./helpers.js";

type Mutation = (m: Model) => void;

interface Pending {
  apply: Mutation;
  sync: boolean;
  acked: boolean;
}

// SEED=<n> reruns one seed; SEEDS=<from>-<to> runs a longer campaign.
const SEEDS = ((): number[] => {
  if (process.env.SEED !== undefined) return [Number(process.env.SEED)];
  const [from, to] = (process.env.SEEDS ?? "1-200").split("-").map(Number);
  return Array.from({ length: to! - from! + 1 }, (_, i) => from! + i);
})();

function optionsFor(r: () => number, fs: MemoryFileSystem): DbOptions {
  return {
    ...TINY,
    fs,
    writeBufferBytes: r() < 0.5 ? 512 : 2048,
    maxImmutableMemtables: r() < 0.5 ? 1 : 2,
    autoCompaction: r() < 0.9,
  };
}

async function runSeed(seed: number): Promise<void> {
  const r = rng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  const mem = new MemoryFileSystem();
  // Crash at a random state-changing I/O call (runs make ~100-600), or at the end if the run
  // makes fewer calls.
  const crashAt = 1 + Math.floor(r() * 500);
  const fs = new CrashPointFileSystem(mem, crashAt, {
    rng: rng(seed * 7919),
    tearLastPage: r() < 0.5,
    keepSomeUnsyncedDirOps: r() < 0.5,
  });
  const options = optionsFor(r, mem);
  options.fs = fs;
  const history: Pending[] = [];
  /** Number of history entries that must survive (acked sync, or before a flush/close). */
  let durable = 0;
  let durableAtCrash = -1;
  let issuedAtCrash = -1;
  fs.onCrash = () => {
    let d = durable;
    for (let j = 0; j < history.length; j++)
      if (history[j]!.acked && history[j]!.sync) d = Math.max(d, j + 1);
    durableAtCrash = d;
    issuedAtCrash = history.length;
  };
  let db: Db = await open("/db", options);
  const keys = ["a", "b", "c", "d", "e", "f", "g"].map((k) => new Uint8Array(Buffer.from(k)));
  const valueFor = (i: number): Uint8Array => {
    const big = r() < 0.2;
    const v = new Uint8Array(big ? 200 : 6);
    v.fill(i & 0xff);
    v[0] = i >> 8;
    return v;
  };
  const steps = 10 + Math.floor(r() * 50);
  for (let i = 0; i < steps; i++) {
    const x = r();
    if (x < 0.45) {
      const k = pick(keys);
      const v = valueFor(history.length);
      const sync = r() < 0.3;
      const entry: Pending = { apply: (m) => m.put(k, v), sync, acked: false };
      history.push(entry);
      await db.put(k, v, { sync });
      entry.acked = true;
      if (sync) durable = history.length;
    } else if (x < 0.6) {
      const k = pick(keys);
      const sync = r() < 0.3;
      const entry: Pending = { apply: (m) => m.del(k), sync, acked: false };
      history.push(entry);
      await db.delete(k, { sync });
      entry.acked = true;
      if (sync) durable = history.length;
    } else if (x < 0.75) {
      const b = db.batch();
      const muts: Mutation[] = [];
      const n = 1 + Math.floor(r() * 4);
      for (let j = 0; j < n; j++) {
        const k = pick(keys);
        if (r() < 0.7) {
          const v = valueFor(history.length * 8 + j);
          b.put(k, v);
          muts.push((m) => m.put(k, v));
        } else {
          b.delete(k);
          muts.push((m) => m.del(k));
        }
      }
      const sync = r() < 0.3;
      const entry: Pending = {
        apply: (m) => {
          for (const f of muts) f(m);
        },
        sync,
        acked: false,
      };
      history.push(entry);
      await db.write(b, { sync });
      entry.acked = true;
      if (sync) durable = history.length;
    } else if (x < 0.83) {
      await db.flush();
      durable = history.length;
    } else if (x < 0.9) {
      await db.compactRange();
      durable = history.length;
    } else if (x < 0.95) {
      await db.close();
      durable = history.length;
      db = await open("/db", options);
    } else {
      // Let background work run a little.
      for (let t = Math.floor(r() * 4); t > 0; t--) await new Promise((res) => setImmediate(res));
    }
  }

  // Writes in flight at the moment of the crash: they may or may not survive.
  const inflight = Math.floor(r() * 4);
  for (let j = 0; j < inflight; j++) {
    const k = pick(keys);
    const v = valueFor(history.length);
    const sync = r() < 0.5;
    const entry: Pending = { apply: (m) => m.put(k, v), sync, acked: false };
    history.push(entry);
    db.put(k, v, { sync }).then(
      () => {
        entry.acked = true;
      },
      () => {},
    );
  }
  for (let t = Math.floor(r() * 6); t > 0; t--) await new Promise((res) => setImmediate(res));
  fs.crashNow();
  await db.close().catch(() => {});
  const image = fs.image!;
  durable = durableAtCrash;

  const after = await open("/db", { ...options, fs: image });
  try {
    const got = await dbFingerprint(after);
    const model = new Model();
    const candidates: number[] = [];
    for (let j = 0; j <= issuedAtCrash; j++) {
      if (j > 0) history[j - 1]!.apply(model);
      if (j >= durable && model.fingerprint() === got) candidates.push(j);
    }
    expect(
      candidates.length,
      `seed ${seed} (crash at I/O ${crashAt} of ${fs.callCount}): recovered state is not the model after any prefix of >= ${durable} of ${history.length} operations: ${got}`,
    ).toBeGreaterThan(0);
    // The recovered database keeps working: a write and a clean reopen.
    await after.put(new Uint8Array([0x7a]), new Uint8Array([1]), { sync: true });
  } finally {
    await after.close();
  }
  const again = await open("/db", { ...options, fs: image });
  try {
    expect(await again.get(new Uint8Array([0x7a]))).toEqual(Buffer.from([1]));
  } finally {
    await again.close();
  }
}

describe("power loss on the in-memory filesystem", () => {
  it(`recovers a prefix-consistent state containing every acknowledged sync write (${SEEDS.length} seeds)`, async () => {
    const failures: string[] = [];
    for (const seed of SEEDS) {
      try {
        await runSeed(seed);
      } catch (e) {
        failures.push(`seed ${seed}: ${(e as Error).message}`);
        if (process.env.SEED !== undefined) console.log((e as Error).stack);
        if (failures.length >= 3) break;
      }
    }
    expect(failures, failures.join("\n")).toEqual([]);
  }, 180_000);
});
