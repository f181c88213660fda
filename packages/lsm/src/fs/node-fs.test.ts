import { type ChildProcess, spawn } from "node:child_process";
import * as fsp from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { isLockedError, isNotFoundFileError } from "../errors.js";
import { isProcessAlive, NodeFileSystem } from "./node-fs.js";

const CHILD = fileURLToPath(new URL("./testdata/lock-child.ts", import.meta.url));
const PKG_DIR = fileURLToPath(new URL("../..", import.meta.url));

let dir: string;
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), "lsm-nodefs-"));
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

function startChild(lockPath: string): {
  child: ChildProcess;
  first: Promise<{
    ok: boolean;
    name?: string;
    message?: string;
    holderPid?: number;
    pid?: number;
  }>;
} {
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, lockPath], {
    cwd: PKG_DIR,
    stdio: ["pipe", "pipe", "inherit"],
  });
  const first = new Promise<{ ok: boolean }>((resolve, reject) => {
    let buf = "";
    child.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf("\n");
      if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)));
    });
    child.on("exit", (code) => reject(new Error(`child exited early (${code})`)));
  });
  return { child, first };
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.on("exit", () => resolve());
  });
}

describe("NodeFileSystem", () => {
  it("creates, appends, reads (sync and async), renames, lists and removes", async () => {
    const nfs = new NodeFileSystem();
    const p = path.join(dir, "a.bin");
    const h = await nfs.createWritable(p);
    h.appendSync(Uint8Array.of(1, 2, 3));
    h.appendSync(Uint8Array.of(4, 5));
    expect(h.size()).toBe(5);
    await h.sync();
    h.syncSync();
    await h.close();
    const r = await nfs.openReadable(p);
    const buf = new Uint8Array(10);
    expect(r.readSync(buf, 0, 10, 1)).toBe(4);
    expect(Array.from(buf.subarray(0, 4))).toEqual([2, 3, 4, 5]);
    expect(await r.read(buf, 2, 2, 0)).toBe(2);
    expect(Array.from(buf.subarray(2, 4))).toEqual([1, 2]);
    expect(r.size()).toBe(5);
    expect(() => r.appendSync(Uint8Array.of(1))).toThrow(/read-only/);
    await r.close();
    const ap = await nfs.openAppendable(p);
    ap.appendSync(Uint8Array.of(6));
    await ap.close();
    const all = await nfs.readFile(p);
    expect(Array.from(all)).toEqual([1, 2, 3, 4, 5, 6]);
    // A plain Uint8Array, so slice() copies.
    expect(Object.getPrototypeOf(all)).toBe(Uint8Array.prototype);
    await nfs.rename(p, path.join(dir, "b.bin"));
    await nfs.mkdir(path.join(dir, "sub", "deeper"));
    expect(await nfs.list(dir)).toEqual(["b.bin", "sub"]);
    expect(await nfs.exists(p)).toBe(false);
    await nfs.remove(path.join(dir, "b.bin"));
    await nfs.remove(path.join(dir, "b.bin")); // missing: no error
    await expect(nfs.openReadable(p)).rejects.toSatisfy(isNotFoundFileError);
    await expect(nfs.readFile(p)).rejects.toSatisfy(isNotFoundFileError);
  });

  it("writeFileAtomic syncs the temp file, renames it, then fsyncs the directory", async () => {
    const nfs = new NodeFileSystem();
    const order: string[] = [];
    const create = nfs.createWritable.bind(nfs);
    vi.spyOn(nfs, "createWritable").mockImplementation(async (p) => {
      const h = await create(p);
      const sync = h.sync.bind(h);
      h.sync = async () => {
        order.push(`sync ${path.basename(h.path)}`);
        await sync();
      };
      order.push(`create ${path.basename(p)}`);
      return h;
    });
    const rename = nfs.rename.bind(nfs);
    vi.spyOn(nfs, "rename").mockImplementation(async (a, b) => {
      order.push(`rename ${path.basename(a)} ${path.basename(b)}`);
      await rename(a, b);
    });
    const syncDir = nfs.syncDir.bind(nfs);
    vi.spyOn(nfs, "syncDir").mockImplementation(async (d) => {
      order.push(`syncDir ${d === dir ? "<dir>" : d}`);
      await syncDir(d);
    });
    await nfs.writeFileAtomic(path.join(dir, "CURRENT"), new TextEncoder().encode("MANIFEST-1\n"));
    expect(order).toEqual([
      "create CURRENT.tmp",
      "sync CURRENT.tmp",
      "rename CURRENT.tmp CURRENT",
      "syncDir <dir>",
    ]);
    expect(await fsp.readFile(path.join(dir, "CURRENT"), "utf8")).toBe("MANIFEST-1\n");
  });

  it("syncDir fails clearly on a missing directory", async () => {
    await expect(new NodeFileSystem().syncDir(path.join(dir, "nope"))).rejects.toSatisfy(
      isNotFoundFileError,
    );
  });

  it("lock: a second lock in this process fails; release frees it and removes the file", async () => {
    const nfs = new NodeFileSystem();
    const p = path.join(dir, "LOCK");
    const l = await nfs.lock(p);
    expect(await fsp.readFile(p, "utf8")).toBe(`${process.pid}\n`);
    const err = await nfs.lock(p).catch((e: unknown) => e);
    expect(isLockedError(err)).toBe(true);
    expect((err as Error).message).toContain(p);
    await l.release();
    expect(await nfs.exists(p)).toBe(false);
    const again = await nfs.lock(p);
    await again.release();
  });

  it("lock: a lock held by this process fails in a child process with a clear LockedError", async () => {
    const nfs = new NodeFileSystem();
    const p = path.join(dir, "LOCK");
    const l = await nfs.lock(p);
    const { child, first } = startChild(p);
    const res = await first;
    await exited(child);
    expect(res.ok).toBe(false);
    expect(res.name).toBe("LockedError");
    expect(res.holderPid).toBe(process.pid);
    expect(res.message).toContain(p);
    expect(res.message).toContain(`process ${process.pid}`);
    await l.release();
  });

  it("lock: a lock held by a live child fails here; once the child is SIGKILLed it is taken over", async () => {
    const nfs = new NodeFileSystem();
    const p = path.join(dir, "LOCK");
    const { child, first } = startChild(p);
    const res = await first;
    expect(res.ok).toBe(true);
    const err = await nfs.lock(p).catch((e: unknown) => e);
    expect(isLockedError(err)).toBe(true);
    expect((err as { holderPid?: number }).holderPid).toBe(child.pid);
    child.kill("SIGKILL");
    await exited(child);
    expect(isProcessAlive(child.pid!)).toBe(false);
    // The dead child's LOCK file is still there, naming its pid: stale, so we take it over.
    expect(await fsp.readFile(p, "utf8")).toBe(`${child.pid}\n`);
    const l = await nfs.lock(p);
    expect(await fsp.readFile(p, "utf8")).toBe(`${process.pid}\n`);
    await l.release();
  });

  it("lock: an empty lock file is stale only once it is old", async () => {
    const nfs = new NodeFileSystem();
    const p = path.join(dir, "LOCK");
    await fsp.writeFile(p, "");
    await expect(nfs.lock(p)).rejects.toSatisfy(isLockedError);
    const old = new Date(Date.now() - 60_000);
    await fsp.utimes(p, old, old);
    const l = await nfs.lock(p);
    await l.release();
  });
});
