/**
 * Wraps a FileSystem and fails chosen operations with an IoError, to test that the engine
 * surfaces I/O errors instead of acknowledging writes it could not make durable.
 */

import { IoError } from "../errors.js";
import type { FileHandle, FileLock, FileSystem } from "./types.js";

export type FaultOp =
  | "write"
  | "sync"
  | "read"
  | "create"
  | "open"
  | "rename"
  | "remove"
  | "syncDir"
  | "readFile";

export interface FaultRule {
  op: FaultOp;
  /** Fail the nth call of `op` counted from when the rule was added (1 = the next call). */
  nth: number;
  /**
   * Keep failing every later call of `op` too (a dead disk), instead of only the nth.
   * @default false
   */
  sticky?: boolean;
  /** Only count calls whose path contains this substring (e.g. ".log"). */
  pathIncludes?: string;
  /**
   * For "write": append the first half of the data before failing (a short write).
   * @default false
   */
  partialWrite?: boolean;
}

interface ActiveRule extends FaultRule {
  seen: number;
  fired: boolean;
}

export class FaultInjectingFileSystem implements FileSystem {
  private rules: ActiveRule[] = [];
  /** Count of calls per op, for assertions. */
  readonly calls: Record<FaultOp, number> = {
    write: 0,
    sync: 0,
    read: 0,
    create: 0,
    open: 0,
    rename: 0,
    remove: 0,
    syncDir: 0,
    readFile: 0,
  };
  /** Number of faults injected so far. */
  injected = 0;

  constructor(readonly inner: FileSystem) {}

  /** Adds a rule; returns this for chaining. */
  failOn(rule: FaultRule): this {
    this.rules.push({ ...rule, seen: 0, fired: false });
    return this;
  }

  /** Removes every rule (the disk heals). */
  heal(): void {
    this.rules = [];
  }

  /** Throws if a rule says this call fails; `partial` is called first for partial writes. */
  check(op: FaultOp, p: string, partial?: () => void): void {
    this.calls[op]++;
    for (const r of this.rules) {
      if (r.op !== op) continue;
      if (r.pathIncludes !== undefined && !p.includes(r.pathIncludes)) continue;
      r.seen++;
      if (r.seen === r.nth || (r.sticky === true && r.seen > r.nth)) {
        r.fired = true;
        this.injected++;
        if (r.partialWrite === true && partial !== undefined) partial();
        throw new IoError(`injected ${op} fault`, p);
      }
    }
  }

  private wrap(h: FileHandle): FileHandle {
    return new FaultInjectingHandle(h, this);
  }

  async openReadable(p: string): Promise<FileHandle> {
    this.check("open", p);
    return this.wrap(await this.inner.openReadable(p));
  }
  openReadableSync(p: string): FileHandle {
    this.check("open", p);
    return this.wrap(this.inner.openReadableSync(p));
  }
  async createWritable(p: string): Promise<FileHandle> {
    this.check("create", p);
    return this.wrap(await this.inner.createWritable(p));
  }
  async openAppendable(p: string): Promise<FileHandle> {
    this.check("open", p);
    return this.wrap(await this.inner.openAppendable(p));
  }
  async readFile(p: string): Promise<Uint8Array> {
    this.check("readFile", p);
    return this.inner.readFile(p);
  }
  async writeFileAtomic(p: string, data: Uint8Array): Promise<void> {
    // Spelled out over this wrapper so each step can fail on its own.
    const tmp = `${p}.tmp`;
    const h = await this.createWritable(tmp);
    try {
      h.appendSync(data);
      await h.sync();
    } finally {
      await h.close();
    }
    await this.rename(tmp, p);
    const slash = p.lastIndexOf("/");
    await this.syncDir(slash <= 0 ? "/" : p.slice(0, slash));
  }
  async rename(from: string, to: string): Promise<void> {
    this.check("rename", from);
    return this.inner.rename(from, to);
  }
  async remove(p: string): Promise<void> {
    this.check("remove", p);
    return this.inner.remove(p);
  }
  exists(p: string): Promise<boolean> {
    return this.inner.exists(p);
  }
  list(dir: string): Promise<string[]> {
    return this.inner.list(dir);
  }
  mkdir(dir: string): Promise<void> {
    return this.inner.mkdir(dir);
  }
  async syncDir(dir: string): Promise<void> {
    this.check("syncDir", dir);
    return this.inner.syncDir(dir);
  }
  lock(p: string): Promise<FileLock> {
    return this.inner.lock(p);
  }
}

class FaultInjectingHandle implements FileHandle {
  constructor(
    private readonly inner: FileHandle,
    private readonly fs: FaultInjectingFileSystem,
  ) {}
  get path(): string {
    return this.inner.path;
  }
  readSync(buf: Uint8Array, bufOffset: number, length: number, position: number): number {
    this.fs.check("read", this.inner.path);
    return this.inner.readSync(buf, bufOffset, length, position);
  }
  async read(
    buf: Uint8Array,
    bufOffset: number,
    length: number,
    position: number,
  ): Promise<number> {
    this.fs.check("read", this.inner.path);
    return this.inner.read(buf, bufOffset, length, position);
  }
  appendSync(data: Uint8Array): void {
    this.fs.check("write", this.inner.path, () =>
      this.inner.appendSync(data.subarray(0, data.length >>> 1)),
    );
    this.inner.appendSync(data);
  }
  async sync(): Promise<void> {
    this.fs.check("sync", this.inner.path);
    return this.inner.sync();
  }
  syncSync(): void {
    this.fs.check("sync", this.inner.path);
    this.inner.syncSync();
  }
  size(): number {
    return this.inner.size();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
