/**
 * Compactions merged on the worker thread (NodeFileSystem) must give exactly the results of
 * inline compactions; a close() that cuts a worker merge short must leave a database that
 * reopens with all its data and without the half-written outputs.
 */

import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type Db, type DbOptions, MemoryFileSystem, open } from "../../src/index.js";
import { dbFingerprint, rng } from "./helpers.js";

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "lsm-worker-"));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const SMALL: DbOptions = {
  writeBufferBytes: 8 * 1024,
  targetFileSizeBytes: 4 * 1024,
  maxBytesForLevelBase: 16 * 1024,
  levelSizeMultiplier: 4,
  l0CompactionTrigger: 2,
  blockSizeBytes: 512,
};

async function workload(db: Db, seed: number, ops = 2000): Promise<void> {
  const r = rng(seed);
  for (let i = 0; i < ops; i++) {
    const k = Buffer.from(`key${Math.floor(r() * 800)}`);
    if (r() < 0.2) await db.delete(k);
    else await db.put(k, Buffer.alloc(20 + Math.floor(r() * 60), i & 0xff));
    if (i % 1000 === 999) await db.compactRange(Buffer.from("key1"), Buffer.from("key5"));
  }
  await db.compactRange();
}

describe("compaction worker thread", () => {
  it("is off by default and rejected with a non-Node filesystem", async () => {
    const dir = await tempDir();
    const db = await open(dir, SMALL);
    await workload(db, 3, 300);
    expect(db.stats().workerCompactions).toBe(0);
    await db.close();
    await expect(
      open("/x", { fs: new MemoryFileSystem(), compactionWorker: true }),
    ).rejects.toThrow(/NodeFileSystem/);
  }, 60_000);

  it("gives the same database as inline compaction", async () => {
    for (const seed of [1]) {
      const results: string[] = [];
      for (const compactionWorker of [true, false]) {
        const dir = await tempDir();
        const db = await open(dir, { ...SMALL, compactionWorker });
        await workload(db, seed);
        const st = db.stats();
        if (compactionWorker) expect(st.workerCompactions).toBeGreaterThan(0);
        else expect(st.workerCompactions).toBe(0);
        expect(st.compactions).toBeGreaterThan(0);
        results.push(await dbFingerprint(db));
        await db.close();
        const again = await open(dir, { ...SMALL, compactionWorker });
        expect(await dbFingerprint(again)).toBe(results[results.length - 1]);
        await again.close();
      }
      expect(results[0]).toBe(results[1]);
    }
  }, 60_000);

  it("close() during a worker merge leaves a consistent database", async () => {
    const dir = await tempDir();
    const db = await open(dir, {
      ...SMALL,
      compactionWorker: true,
      writeBufferBytes: 64 * 1024,
      targetFileSizeBytes: 64 * 1024,
    });
    for (let i = 0; i < 20_000; i++)
      await db.put(Buffer.from(`k${i % 5000}`), Buffer.alloc(50, i & 0xff));
    const want = await dbFingerprint(db);
    const compacting = db.compactRange().catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 5));
    await db.close();
    await compacting;
    const again = await open(dir, SMALL);
    expect(await dbFingerprint(again)).toBe(want);
    await again.close();
    // Only live tables remain after the reopen's cleanup.
    const live = await open(dir, { ...SMALL, autoCompaction: false });
    const listed = (await readdir(dir)).filter((n) => n.endsWith(".sst")).length;
    expect(listed).toBe(live.stats().levels.reduce((a, l) => a + l.files, 0));
    await live.close();
  }, 60_000);
});
