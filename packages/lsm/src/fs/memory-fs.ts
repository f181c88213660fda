/**
 * An in-memory filesystem that simulates power loss, for tests and simulation.
 *
 * Model (stricter than most real filesystems, so that an engine passing its tests here does not
 * rely on luck):
 * - File contents: files only grow by appends. Bytes up to the last sync() of a handle are
 *   durable; later bytes are not.
 * - Directory entries: creating, renaming and removing a file changes the live namespace at once,
 *   but the durable namespace of a directory catches up only when syncDir(dir) is called.
 *   Directories themselves (mkdir) are durable at once.
 * - crash() returns a NEW filesystem holding only what would survive a power loss right now
 *   (this one is left untouched, so a test can take several crash images). Options let unsynced
 *   bytes survive in part, with the last page torn, and let a prefix of the unsynced directory
 *   operations survive (journalling filesystems commit them in order).
 */

import * as path from "node:path";
import { IoError, LockedError, NotFoundFileError } from "../errors.js";
import type { FileHandle, FileLock, FileSystem } from "./types.js";

/** Page size used to model torn writes. */
export const MEMORY_FS_PAGE_BYTES = 4096;

class Inode {
  data: Uint8Array;
  length: number;
  /** Bytes [0, durableLength) survive a crash. */
  durableLength = 0;

  constructor(data?: Uint8Array) {
    this.data = data ?? new Uint8Array(256);
    this.length = data?.length ?? 0;
    if (data !== undefined) this.durableLength = data.length;
  }

  append(src: Uint8Array): void {
    const need = this.length + src.length;
    if (need > this.data.length) {
      let cap = Math.max(256, this.data.length * 2);
      while (cap < need) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.data.subarray(0, this.length));
      this.data = next;
    }
    this.data.set(src, this.length);
    this.length = need;
  }
}

type DirOp =
  | { kind: "link"; dir: string; file: string; inode: Inode }
  | { kind: "unlink"; dir: string; file: string }
  | { kind: "rename"; fromDir: string; from: string; toDir: string; to: string; inode: Inode };

export interface CrashOptions {
  /**
   * Random source in [0, 1) (e.g. a seeded generator); only used by the options below.
   * @default Math.random
   */
  rng?: () => number;
  /**
   * Keep a random prefix of each file's unsynced bytes, and fill the rest of the last page of that
   * prefix with garbage or zeros (a torn write). When false, all unsynced bytes are lost.
   * @default false
   */
  tearLastPage?: boolean;
  /**
   * Let a random prefix of the directory operations not yet made durable by syncDir survive.
   * When false, only synced directory state survives.
   * @default false
   */
  keepSomeUnsyncedDirOps?: boolean;
}

function norm(p: string): string {
  return path.posix.resolve("/", p);
}

class MemoryFileHandle implements FileHandle {
  private closed = false;
  constructor(
    readonly path: string,
    private readonly inode: Inode,
    private readonly writable: boolean,
  ) {}

  private check(): void {
    if (this.closed) throw new IoError("file handle is closed", this.path);
  }

  readSync(buf: Uint8Array, bufOffset: number, length: number, position: number): number {
    this.check();
    const n = Math.max(0, Math.min(length, this.inode.length - position));
    if (n > 0) buf.set(this.inode.data.subarray(position, position + n), bufOffset);
    return n;
  }

  async read(
    buf: Uint8Array,
    bufOffset: number,
    length: number,
    position: number,
  ): Promise<number> {
    return this.readSync(buf, bufOffset, length, position);
  }

  appendSync(data: Uint8Array): void {
    this.check();
    if (!this.writable) throw new IoError("handle is read-only", this.path);
    this.inode.append(data);
  }

  async sync(): Promise<void> {
    this.syncSync();
  }

  syncSync(): void {
    this.check();
    this.inode.durableLength = this.inode.length;
  }

  size(): number {
    return this.inode.length;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

export class MemoryFileSystem implements FileSystem {
  /** Live namespace: absolute path -> inode. */
  private readonly live = new Map<string, Inode>();
  /** Durable namespace: what a crash would leave. */
  private readonly durable = new Map<string, Inode>();
  private readonly dirs = new Set<string>(["/"]);
  /** Directory operations not yet made durable, in order. */
  private pending: DirOp[] = [];
  private readonly locks = new Set<string>();

  private requireFile(p: string): Inode {
    const inode = this.live.get(p);
    if (inode === undefined) throw new NotFoundFileError(p);
    return inode;
  }

  private requireDir(dir: string, forPath: string): void {
    if (!this.dirs.has(dir)) {
      throw new IoError("parent directory does not exist", forPath, {
        cause: new NotFoundFileError(dir),
      });
    }
  }

  async openReadable(p: string): Promise<FileHandle> {
    return this.openReadableSync(p);
  }

  openReadableSync(p: string): FileHandle {
    const abs = norm(p);
    return new MemoryFileHandle(p, this.requireFile(abs), false);
  }

  async createWritable(p: string): Promise<FileHandle> {
    const abs = norm(p);
    const dir = path.posix.dirname(abs);
    this.requireDir(dir, p);
    if (this.dirs.has(abs)) throw new IoError("is a directory", p);
    const inode = new Inode();
    this.live.set(abs, inode);
    this.pending.push({ kind: "link", dir, file: abs, inode });
    return new MemoryFileHandle(p, inode, true);
  }

  async openAppendable(p: string): Promise<FileHandle> {
    const abs = norm(p);
    return new MemoryFileHandle(p, this.requireFile(abs), true);
  }

  async readFile(p: string): Promise<Uint8Array> {
    const inode = this.requireFile(norm(p));
    return inode.data.slice(0, inode.length);
  }

  async writeFileAtomic(p: string, data: Uint8Array): Promise<void> {
    const tmp = `${p}.tmp`;
    const h = await this.createWritable(tmp);
    h.appendSync(data);
    await h.sync();
    await h.close();
    await this.rename(tmp, p);
    await this.syncDir(path.posix.dirname(norm(p)));
  }

  async rename(from: string, to: string): Promise<void> {
    const a = norm(from);
    const b = norm(to);
    const inode = this.requireFile(a);
    const toDir = path.posix.dirname(b);
    this.requireDir(toDir, to);
    if (a === b) return;
    this.live.delete(a);
    this.live.set(b, inode);
    this.pending.push({
      kind: "rename",
      fromDir: path.posix.dirname(a),
      from: a,
      toDir,
      to: b,
      inode,
    });
  }

  async remove(p: string): Promise<void> {
    const abs = norm(p);
    if (!this.live.has(abs)) return;
    this.live.delete(abs);
    this.pending.push({ kind: "unlink", dir: path.posix.dirname(abs), file: abs });
  }

  async exists(p: string): Promise<boolean> {
    const abs = norm(p);
    return this.live.has(abs) || this.dirs.has(abs);
  }

  async list(dir: string): Promise<string[]> {
    const d = norm(dir);
    if (!this.dirs.has(d)) throw new NotFoundFileError(dir);
    const names: string[] = [];
    for (const p of this.live.keys())
      if (path.posix.dirname(p) === d) names.push(path.posix.basename(p));
    for (const p of this.dirs) {
      if (p !== "/" && path.posix.dirname(p) === d) names.push(path.posix.basename(p));
    }
    return names.sort();
  }

  async mkdir(dir: string): Promise<void> {
    let d = norm(dir);
    const chain: string[] = [];
    while (!this.dirs.has(d)) {
      if (this.live.has(d)) throw new IoError("a file is in the way", dir);
      chain.push(d);
      d = path.posix.dirname(d);
    }
    for (const c of chain) this.dirs.add(c);
  }

  async syncDir(dir: string): Promise<void> {
    const d = norm(dir);
    if (!this.dirs.has(d)) throw new NotFoundFileError(dir);
    // The durable entries of d become exactly the live ones.
    for (const p of [...this.durable.keys()]) {
      if (path.posix.dirname(p) === d) this.durable.delete(p);
    }
    for (const [p, inode] of this.live) if (path.posix.dirname(p) === d) this.durable.set(p, inode);
    // Operations that touched only d are now fully reflected; cross-directory renames stay
    // pending until both sides were synced (replaying them is harmless, see applyOp).
    this.pending = this.pending.filter((op) =>
      op.kind === "rename" ? !(op.fromDir === d && op.toDir === d) : op.dir !== d,
    );
  }

  async lock(p: string): Promise<FileLock> {
    const abs = norm(p);
    if (this.locks.has(abs)) throw new LockedError(p, undefined);
    this.locks.add(abs);
    const h = await this.createWritable(abs);
    h.appendSync(new TextEncoder().encode("memory\n"));
    await h.close();
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        this.locks.delete(abs);
        await this.remove(abs);
      },
    };
  }

  /** Number of bytes of `p` that would survive a crash now (testing aid). */
  durableSize(p: string): number {
    const inode = this.durable.get(norm(p));
    return inode === undefined ? -1 : inode.durableLength;
  }

  /** Whether `p` would exist after a crash now (testing aid). */
  durablyExists(p: string): boolean {
    return this.durable.has(norm(p));
  }

  /**
   * Returns a new filesystem with what would survive a power loss at this moment. This
   * filesystem is unchanged (handles on it keep working, detached from the returned one).
   */
  crash(options: CrashOptions = {}): MemoryFileSystem {
    const rng = options.rng ?? Math.random;
    const ns = new Map(this.durable);
    if (options.keepSomeUnsyncedDirOps === true && this.pending.length > 0) {
      const keep = Math.floor(rng() * (this.pending.length + 1));
      for (let i = 0; i < keep; i++) applyOp(ns, this.pending[i]!);
    }
    const out = new MemoryFileSystem();
    for (const d of this.dirs) out.dirs.add(d);
    // Several names may share an inode (not produced by this FS today, but cheap to honour).
    const copies = new Map<Inode, Inode>();
    for (const [p, inode] of [...ns].sort((x, y) => (x[0] < y[0] ? -1 : 1))) {
      let copy = copies.get(inode);
      if (copy === undefined) {
        copy = new Inode(survivingBytes(inode, options.tearLastPage === true, rng));
        copies.set(inode, copy);
      }
      out.live.set(p, copy);
      out.durable.set(p, copy);
    }
    return out;
  }
}

function applyOp(ns: Map<string, Inode>, op: DirOp): void {
  if (op.kind === "link") ns.set(op.file, op.inode);
  else if (op.kind === "unlink") ns.delete(op.file);
  else if (ns.get(op.from) === op.inode) {
    ns.delete(op.from);
    ns.set(op.to, op.inode);
  }
}

function survivingBytes(inode: Inode, tear: boolean, rng: () => number): Uint8Array {
  const durable = inode.durableLength;
  const unsynced = inode.length - durable;
  if (!tear || unsynced === 0) return inode.data.slice(0, durable);
  // Some prefix of the unsynced bytes reached the disk; the page holding the end of that prefix
  // may have been written only in part, so its remainder (within the unsynced region) is junk.
  const kept = Math.floor(rng() * (unsynced + 1));
  const end = durable + kept;
  const pageEnd = Math.min(
    inode.length,
    Math.ceil(end / MEMORY_FS_PAGE_BYTES) * MEMORY_FS_PAGE_BYTES || MEMORY_FS_PAGE_BYTES,
  );
  const out = inode.data.slice(0, Math.max(end, Math.min(pageEnd, inode.length)));
  const junkMode = rng();
  for (let i = end; i < out.length; i++) {
    out[i] = junkMode < 0.5 ? 0 : Math.floor(rng() * 256);
  }
  return out;
}
