/**
 * A flipped byte in a table or in the WAL is detected (CorruptionError naming the file), never
 * returned as data. Also: the engine makes every file it creates or renames durable with a
 * directory fsync (checked on the real NodeFileSystem by recording its calls).
 */
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { open } from "../../src/db.js";
import { type CorruptionError, isCorruptionError } from "../../src/errors.js";
import { MemoryFileSystem } from "../../src/fs/memory-fs.js";
import { NodeFileSystem } from "../../src/fs/node-fs.js";
import type { FileHandle, FileSystem } from "../../src/fs/types.js";
import { bytesEqual } from "../../src/util/compare-bytes.js";
import { parseLog } from "../../src/wal/log-reader.js";
import { expectedValue, keyFor } from "./crash-model.js";

let dir: string;
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), "lsm-corrupt-"));
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

const N = 3000;

/** Reads every key (get and a full scan); returns the CorruptionErrors seen. Wrong data throws. */
async function readEverything(dbDir: string): Promise<CorruptionError[]> {
  const seen: CorruptionError[] = [];
  const catchCorruption = (e: unknown) => {
    if (!isCorruptionError(e)) throw e;
    seen.push(e);
  };
  let db: Awaited<ReturnType<typeof open>>;
  try {
    db = await open(dbDir);
  } catch (e) {
    catchCorruption(e);
    return seen;
  }
  try {
    for (let i = 0; i < N; i++) {
      try {
        const v = await db.get(keyFor(0, i));
        if (v !== undefined && !bytesEqual(v, expectedValue(0, i, false))) {
          throw new Error(`wrong value returned for key ${i}`);
        }
        if (v === undefined) throw new Error(`key ${i} silently missing`);
      } catch (e) {
        catchCorruption(e);
      }
    }
    try {
      let i = 0;
      for await (const [k, v] of db.iterator()) {
        if (!bytesEqual(k, keyFor(0, i)) || !bytesEqual(v, expectedValue(0, i, false))) {
          throw new Error(`scan returned wrong data at entry ${i}`);
        }
        i++;
      }
      if (i !== N) throw new Error(`scan silently returned ${i} of ${N} entries`);
    } catch (e) {
      catchCorruption(e);
    }
  } finally {
    await db.close().catch(() => {});
  }
  return seen;
}

describe("corruption is detected, never returned", () => {
  it("a byte flipped anywhere in a table", async () => {
    const base = path.join(dir, "base");
    const db = await open(base);
    for (let i = 0; i < N; i++) await db.put(keyFor(0, i), expectedValue(0, i, false));
    await db.flush();
    await db.close();
    const tables = fs.readdirSync(base).filter((n) => n.endsWith(".sst"));
    expect(tables.length).toBeGreaterThan(0);
    expect(await readEverything(base)).toEqual([]);
    const table = tables[0]!;
    const size = fs.statSync(path.join(base, table)).size;
    // Positions spread over the data blocks, the filter, the index and the footer.
    const positions = [
      0,
      1,
      100,
      4095,
      4096,
      5000,
      Math.floor(size / 2),
      size - 2000,
      size - 300,
      size - 60,
      size - 20,
      size - 1,
    ];
    for (const pos of positions) {
      const copy = path.join(dir, `flip-${pos}`);
      fs.cpSync(base, copy, { recursive: true });
      const f = path.join(copy, table);
      const bytes = fs.readFileSync(f);
      bytes[pos]! ^= 0x10;
      fs.writeFileSync(f, bytes);
      const errs = await readEverything(copy);
      if (errs.length === 0) expect.fail(`flip at ${pos} of ${size} went unnoticed`);
      for (const e of errs) expect(e.file.endsWith(table)).toBe(true);
    }
  });

  it("a byte flipped in the middle of the WAL fails open with CorruptionError naming the log", async () => {
    const mfs = new MemoryFileSystem();
    const db = await open("/db", { fs: mfs, writeBufferBytes: 64 << 20 });
    for (let i = 0; i < N; i++)
      await db.put(keyFor(0, i), expectedValue(0, i, false), { sync: i % 100 === 99 });
    await db.put(keyFor(0, N), Uint8Array.of(1), { sync: true });
    // Power loss now: the image holds the WAL, not yet flushed to a table.
    const image = mfs.crash();
    await db.close();
    const logs = (await image.list("/db")).filter((n) => n.endsWith(".log"));
    const logPath = `/db/${logs[logs.length - 1]}`;
    const bytes = await image.readFile(logPath);
    expect(parseLog(bytes, logPath).records.length).toBeGreaterThan(1000);
    const at = Math.floor(bytes.length / 3);
    bytes[at]! ^= 0x01;
    await rewrite(image, logPath, bytes);
    const err = await open("/db", { fs: image }).catch((e: unknown) => e);
    expect(isCorruptionError(err)).toBe(true);
    expect((err as CorruptionError).file).toBe(logPath);
    expect((err as CorruptionError).offset).toBeLessThanOrEqual(at);
  });

  it("a torn last WAL record is a clean end: every earlier write is there", async () => {
    const mfs = new MemoryFileSystem();
    const db = await open("/db", { fs: mfs, writeBufferBytes: 64 << 20 });
    for (let i = 0; i < 200; i++)
      await db.put(keyFor(0, i), expectedValue(0, i, false), { sync: true });
    const image = mfs.crash();
    await db.close();
    const logs = (await image.list("/db")).filter((n) => n.endsWith(".log"));
    const logPath = `/db/${logs[logs.length - 1]}`;
    const bytes = await image.readFile(logPath);
    await rewrite(image, logPath, bytes.subarray(0, bytes.length - 5));
    const db2 = await open("/db", { fs: image });
    for (let i = 0; i < 199; i++) {
      expect(bytesEqual((await db2.get(keyFor(0, i)))!, expectedValue(0, i, false))).toBe(true);
    }
    expect(await db2.get(keyFor(0, 199))).toBeUndefined();
    await db2.close();
  });
});

async function rewrite(fsys: MemoryFileSystem, p: string, data: Uint8Array): Promise<void> {
  const h = await fsys.createWritable(p);
  h.appendSync(data);
  await h.sync();
  await h.close();
  await fsys.syncDir(path.posix.dirname(p));
}

/** Records the order of createWritable/rename/remove/syncDir and file syncs on a real filesystem. */
class RecordingFileSystem extends NodeFileSystem {
  readonly events: string[] = [];
  override async createWritable(p: string): Promise<FileHandle> {
    this.events.push(`create ${path.basename(p)}`);
    const h = await super.createWritable(p);
    const sync = h.sync.bind(h);
    h.sync = async () => {
      await sync();
      this.events.push(`sync ${path.basename(p)}`);
    };
    return h;
  }
  override async rename(a: string, b: string): Promise<void> {
    await super.rename(a, b);
    this.events.push(`rename ${path.basename(a)} ${path.basename(b)}`);
  }
  override async syncDir(d: string): Promise<void> {
    await super.syncDir(d);
    this.events.push("syncDir");
  }
}

describe("durability of directory entries (real NodeFileSystem)", () => {
  it("every file the engine creates or renames is followed by a directory fsync", async () => {
    const rfs = new RecordingFileSystem();
    const fsys: FileSystem = rfs;
    const dbDir = path.join(dir, "db");
    const db = await open(dbDir, { fs: fsys, writeBufferBytes: 64 * 1024 });
    for (let i = 0; i < 2000; i++) await db.put(keyFor(0, i), expectedValue(0, i, true));
    await db.flush();
    await db.compactRange();
    await db.put(keyFor(1, 0), Uint8Array.of(1), { sync: true });
    const events = [...rfs.events];
    await db.close();
    const creates = events.filter((e) => e.startsWith("create ") || e.startsWith("rename "));
    expect(creates.some((e) => e.endsWith(".sst"))).toBe(true);
    expect(creates.some((e) => e.includes("CURRENT"))).toBe(true);
    // Each create/rename has a syncDir after it (before the next acknowledged sync write above).
    let pending: string[] = [];
    for (const e of events) {
      if (e.startsWith("create ") || e.startsWith("rename ")) pending.push(e);
      else if (e === "syncDir") pending = [];
    }
    expect(pending.filter((e) => !e.includes("LOCK"))).toEqual([]);
  });
});
