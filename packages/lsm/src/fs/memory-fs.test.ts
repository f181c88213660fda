import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isIoError, isLockedError, isNotFoundFileError } from "../errors.js";
import { FaultInjectingFileSystem } from "./fault-injecting-fs.js";
import { MEMORY_FS_PAGE_BYTES, MemoryFileSystem } from "./memory-fs.js";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

// mulberry32: a small seeded generator, so failures replay.
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("MemoryFileSystem", () => {
  it("behaves as a filesystem while nothing crashes", async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdir("/db/sub");
    const h = await fs.createWritable("/db/a");
    h.appendSync(enc("hello "));
    h.appendSync(enc("world"));
    expect(h.size()).toBe(11);
    const r = fs.openReadableSync("/db/a");
    const buf = new Uint8Array(20);
    expect(r.readSync(buf, 0, 20, 6)).toBe(5);
    expect(dec(buf.subarray(0, 5))).toBe("world");
    expect(() => r.appendSync(enc("x"))).toThrow(/read-only/);
    expect(await fs.list("/db")).toEqual(["a", "sub"]);
    await fs.rename("/db/a", "/db/b");
    expect(await fs.exists("/db/a")).toBe(false);
    expect(dec(await fs.readFile("/db/b"))).toBe("hello world");
    const ap = await fs.openAppendable("/db/b");
    ap.appendSync(enc("!"));
    expect(dec(await fs.readFile("/db/b"))).toBe("hello world!");
    await fs.remove("/db/b");
    await fs.remove("/db/b");
    await expect(fs.openReadable("/db/b")).rejects.toSatisfy(isNotFoundFileError);
    await expect(fs.createWritable("/nodir/x")).rejects.toSatisfy(isIoError);
    await h.close();
    expect(() => h.appendSync(enc("late"))).toThrow(/closed/);
  });

  it("a crash keeps synced bytes and drops unsynced ones", async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdir("/db");
    const h = await fs.createWritable("/db/log");
    await fs.syncDir("/db");
    h.appendSync(enc("durable"));
    await h.sync();
    h.appendSync(enc("-lost"));
    const after = fs.crash();
    expect(dec(await after.readFile("/db/log"))).toBe("durable");
    // The original is untouched and still usable.
    expect(dec(await fs.readFile("/db/log"))).toBe("durable-lost");
    h.syncSync();
    expect(dec(await fs.crash().readFile("/db/log"))).toBe("durable-lost");
  });

  it("create, rename and remove are durable only after syncDir of the parent", async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdir("/db");
    const h = await fs.createWritable("/db/new");
    h.appendSync(enc("x"));
    await h.sync();
    // File synced but its directory entry was not.
    expect(await fs.crash().exists("/db/new")).toBe(false);
    await fs.syncDir("/other-dir-does-not-exist").catch(() => {});
    await fs.syncDir("/");
    expect(await fs.crash().exists("/db/new")).toBe(false);
    await fs.syncDir("/db");
    expect(dec(await fs.crash().readFile("/db/new"))).toBe("x");

    await fs.rename("/db/new", "/db/renamed");
    let c = fs.crash();
    expect(await c.list("/db")).toEqual(["new"]);
    await fs.syncDir("/db");
    c = fs.crash();
    expect(await c.list("/db")).toEqual(["renamed"]);

    await fs.remove("/db/renamed");
    expect(await fs.crash().list("/db")).toEqual(["renamed"]);
    await fs.syncDir("/db");
    expect(await fs.crash().list("/db")).toEqual([]);
  });

  it("writeFileAtomic leaves either the old or the new content, never a mix", async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdir("/db");
    await fs.writeFileAtomic("/db/CURRENT", enc("MANIFEST-1\n"));
    expect(dec(await fs.crash().readFile("/db/CURRENT"))).toBe("MANIFEST-1\n");
    await fs.writeFileAtomic("/db/CURRENT", enc("MANIFEST-2\n"));
    expect(dec(await fs.crash().readFile("/db/CURRENT"))).toBe("MANIFEST-2\n");
  });

  it("crash with tearLastPage keeps a prefix of the unsynced bytes and junk only after it, within a page", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 20_000 }),
        fc.integer({ min: 1, max: 20_000 }),
        fc.integer(),
        async (synced, extra, seed) => {
          const fs = new MemoryFileSystem();
          const h = await fs.createWritable("/f");
          await fs.syncDir("/");
          const data = Uint8Array.from({ length: synced + extra }, (_, i) => (i % 251) + 1);
          h.appendSync(data.subarray(0, synced));
          await h.sync();
          h.appendSync(data.subarray(synced));
          const after = await fs.crash({ tearLastPage: true, rng: seeded(seed) }).readFile("/f");
          expect(after.length).toBeGreaterThanOrEqual(synced);
          expect(after.length).toBeLessThanOrEqual(data.length);
          // Synced bytes intact.
          expect(
            Buffer.from(after.subarray(0, synced)).equals(Buffer.from(data.subarray(0, synced))),
          ).toBe(true);
          // A correct prefix, then junk that does not reach past the page where the prefix ended.
          let good = synced;
          while (good < after.length && after[good] === data[good]) good++;
          if (good < after.length) {
            expect(Math.floor((after.length - 1) / MEMORY_FS_PAGE_BYTES)).toBeLessThanOrEqual(
              Math.floor(good / MEMORY_FS_PAGE_BYTES),
            );
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it("crash with keepSomeUnsyncedDirOps keeps a prefix of the directory operations, in order", async () => {
    const seen = new Set<string>();
    for (let seed = 1; seed < 200; seed++) {
      const fs = new MemoryFileSystem();
      for (const name of ["a", "b", "c"]) {
        const h = await fs.createWritable(`/${name}`);
        await h.sync();
      }
      await fs.rename("/a", "/z");
      const names = (
        await fs.crash({ keepSomeUnsyncedDirOps: true, rng: seeded(seed) }).list("/")
      ).join(",");
      seen.add(names);
    }
    // Exactly the prefixes of [create a, create b, create c, rename a->z].
    expect([...seen].sort()).toEqual(["", "a", "a,b", "a,b,c", "b,c,z"].sort());
  });

  it("lock: one holder at a time per filesystem; a crash frees it", async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdir("/db");
    const l = await fs.lock("/db/LOCK");
    await expect(fs.lock("/db/LOCK")).rejects.toSatisfy(isLockedError);
    const l2 = await fs.crash().lock("/db/LOCK");
    await l2.release();
    await l.release();
    const l3 = await fs.lock("/db/LOCK");
    await l3.release();
  });
});

describe("FaultInjectingFileSystem", () => {
  it("fails the nth matching call only, or every call from then on when sticky", async () => {
    const inner = new MemoryFileSystem();
    const fs = new FaultInjectingFileSystem(inner).failOn({
      op: "write",
      nth: 2,
      pathIncludes: ".log",
    });
    const log = await fs.createWritable("/1.log");
    const other = await fs.createWritable("/1.sst");
    log.appendSync(enc("a"));
    other.appendSync(enc("x"));
    expect(() => log.appendSync(enc("b"))).toThrow(/injected write fault: \/1.log/);
    log.appendSync(enc("c"));
    expect(dec(await inner.readFile("/1.log"))).toBe("ac");
    expect(fs.injected).toBe(1);

    fs.failOn({ op: "sync", nth: 1, sticky: true });
    await expect(log.sync()).rejects.toSatisfy(isIoError);
    expect(() => log.syncSync()).toThrow(/injected sync fault/);
    fs.heal();
    await log.sync();
    expect(fs.calls.sync).toBe(3);
  });

  it("partial writes leave a torn record behind, as a short write would", async () => {
    const inner = new MemoryFileSystem();
    const fs = new FaultInjectingFileSystem(inner).failOn({
      op: "write",
      nth: 1,
      partialWrite: true,
    });
    const h = await fs.createWritable("/p");
    expect(() => h.appendSync(enc("abcdef"))).toThrow(/injected/);
    expect(dec(await inner.readFile("/p"))).toBe("abc");
  });

  it("injects rename, syncDir, create, remove and read faults, including inside writeFileAtomic", async () => {
    const inner = new MemoryFileSystem();
    const fs = new FaultInjectingFileSystem(inner);
    fs.failOn({ op: "syncDir", nth: 1 });
    await expect(fs.writeFileAtomic("/CURRENT", enc("x"))).rejects.toThrow(
      /injected syncDir fault/,
    );
    // The rename happened but is not durable: a crash now loses it.
    expect(await inner.exists("/CURRENT")).toBe(true);
    expect(await inner.crash().exists("/CURRENT")).toBe(false);
    fs.failOn({ op: "rename", nth: 1 });
    await expect(fs.rename("/CURRENT", "/B")).rejects.toThrow(/rename/);
    fs.failOn({ op: "create", nth: 1 });
    await expect(fs.createWritable("/c")).rejects.toThrow(/create/);
    fs.failOn({ op: "remove", nth: 1 });
    await expect(fs.remove("/CURRENT")).rejects.toThrow(/remove/);
    fs.failOn({ op: "read", nth: 1 });
    const r = fs.openReadableSync("/CURRENT");
    expect(() => r.readSync(new Uint8Array(1), 0, 1, 0)).toThrow(/read/);
    expect(r.readSync(new Uint8Array(1), 0, 1, 0)).toBe(1);
  });
});
