/**
 * Recovery from what crashes and damage leave behind, on the real filesystem: a torn or
 * garbage WAL tail is dropped silently; leftover temporary and orphan files are removed; damage
 * followed by valid data, a damaged table block, a missing table or a CURRENT naming a missing
 * manifest is reported as CorruptionError (file and offset), never returned as data.
 */

import {
  appendFile,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  truncate,
  unlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type CorruptionError, isCorruptionError, open } from "../../src/index.js";

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "lsm-recovery-"));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const key = (i: number): Uint8Array =>
  new Uint8Array(Buffer.from(`key${String(i).padStart(4, "0")}`));
const val = (i: number): Buffer => Buffer.from(`value-${i}-`.repeat(3));

/** Writes n puts that stay in the WAL (memtable not flushed) and closes. Returns the log path. */
async function dbWithLog(dir: string, n: number): Promise<string> {
  const db = await open(dir);
  for (let i = 0; i < n; i++) await db.put(key(i), val(i));
  await db.close();
  const logs = (await readdir(dir)).filter((f) => f.endsWith(".log"));
  expect(logs).toHaveLength(1);
  return join(dir, logs[0]!);
}

async function count(dir: string): Promise<number> {
  const db = await open(dir);
  try {
    let n = 0;
    for await (const _ of db.iterator()) n++;
    return n;
  } finally {
    await db.close();
  }
}

describe("recovery", () => {
  it("drops a torn last WAL record and keeps everything before it", async () => {
    const dir = await tempDir();
    const log = await dbWithLog(dir, 100);
    const size = (await stat(log)).size;
    await truncate(log, size - 5); // cut into the last record
    const db = await open(dir);
    try {
      for (let i = 0; i < 99; i++) expect(await db.get(key(i))).toEqual(val(i));
      expect(await db.get(key(99))).toBeUndefined();
    } finally {
      await db.close();
    }
  });

  it("ignores a zeroed or garbage tail after the last record", async () => {
    for (const tail of [
      new Uint8Array(5000),
      Uint8Array.from({ length: 3000 }, (_, i) => (i * 151 + 7) & 0xff),
    ]) {
      const dir = await tempDir();
      const log = await dbWithLog(dir, 50);
      await appendFile(log, tail);
      expect(await count(dir)).toBe(50);
    }
  });

  it("reports damage followed by valid records as CorruptionError with file and offset", async () => {
    const dir = await tempDir();
    const log = await dbWithLog(dir, 100);
    const bytes = await readFile(log);
    bytes[20]! ^= 0xff; // inside the first record's payload; later records stay valid
    await writeFile(log, bytes);
    const err = await open(dir).catch((e: unknown) => e);
    expect(isCorruptionError(err)).toBe(true);
    expect((err as CorruptionError).file).toBe(log);
    expect((err as CorruptionError).offset).toBe(0);
    expect((err as Error).message).toContain(log);
  });

  it("removes leftover temporary files and orphan tables", async () => {
    const dir = await tempDir();
    await dbWithLog(dir, 10);
    await writeFile(join(dir, "CURRENT.tmp"), "MANIFEST-999999\n");
    await writeFile(join(dir, "000999.dbtmp"), "junk");
    await writeFile(join(dir, "000998.sst"), "not a table, and not in the manifest");
    await writeFile(join(dir, "notes.txt"), "not ours: left alone");
    expect(await count(dir)).toBe(10);
    const names = await readdir(dir);
    expect(names).not.toContain("CURRENT.tmp");
    expect(names).not.toContain("000999.dbtmp");
    expect(names).not.toContain("000998.sst");
    expect(names).toContain("notes.txt");
  });

  it("reports a damaged table block on read, never returning its data", async () => {
    const dir = await tempDir();
    const db = await open(dir);
    for (let i = 0; i < 200; i++) await db.put(key(i), val(i));
    await db.compactRange();
    await db.close();
    const tables = (await readdir(dir)).filter((f) => f.endsWith(".sst"));
    expect(tables.length).toBeGreaterThan(0);
    const path = join(dir, tables[0]!);
    const bytes = await readFile(path);
    bytes[100]! ^= 0x55; // inside the first data block
    await writeFile(path, bytes);
    const db2 = await open(dir, { blockCacheBytes: 0 });
    try {
      const errors: unknown[] = [];
      for (let i = 0; i < 200; i++) {
        try {
          const v = await db2.get(key(i));
          expect(v).toEqual(val(i)); // a value that is returned is the right one
        } catch (e) {
          errors.push(e);
        }
      }
      expect(errors.length).toBeGreaterThan(0);
      for (const e of errors) {
        expect(isCorruptionError(e)).toBe(true);
        expect((e as CorruptionError).file).toBe(path);
      }
      const scan = await (async () => {
        for await (const _ of db2.iterator()) {
        }
      })().catch((e: unknown) => e);
      expect(isCorruptionError(scan)).toBe(true);
    } finally {
      await db2.close();
    }
  });

  it("fails to open with CorruptionError when a table named by the manifest is missing", async () => {
    const dir = await tempDir();
    const db = await open(dir);
    for (let i = 0; i < 50; i++) await db.put(key(i), val(i));
    await db.flush();
    await db.close();
    const table = (await readdir(dir)).find((f) => f.endsWith(".sst"))!;
    await unlink(join(dir, table));
    const err = await open(dir).catch((e: unknown) => e);
    expect(isCorruptionError(err)).toBe(true);
    expect((err as CorruptionError).file).toBe(join(dir, table));
  });

  it("fails to open with CorruptionError when CURRENT names a missing manifest", async () => {
    const dir = await tempDir();
    await dbWithLog(dir, 5);
    await writeFile(join(dir, "CURRENT"), "MANIFEST-424242\n");
    const err = await open(dir).catch((e: unknown) => e);
    expect(isCorruptionError(err)).toBe(true);
    expect((err as Error).message).toContain("MANIFEST-424242");
  });

  it("reopens repeatedly without losing or duplicating data", async () => {
    const dir = await tempDir();
    for (let round = 0; round < 5; round++) {
      const db = await open(dir, { writeBufferBytes: 4096 });
      for (let i = 0; i < 100; i++) await db.put(key(round * 100 + i), val(i));
      await db.close();
    }
    expect(await count(dir)).toBe(500);
    // Each open writes a fresh manifest; only the live one remains.
    const manifests = (await readdir(dir)).filter((f) => f.startsWith("MANIFEST-"));
    expect(manifests).toHaveLength(1);
  });
});
