/**
 * The real filesystem (node:fs).
 *
 * Reads and appends are synchronous (readSync/writeSync) because they hit the page cache and a
 * thread-pool round trip would cost more than the work; fdatasync goes to the thread pool.
 * Directory entries are made durable only by syncDir (fsync of the directory fd), which the
 * engine calls after creating, renaming or removing files (leveldb once lost CURRENT because a
 * rename was never followed by a directory fsync). writeFileAtomic does the whole dance itself.
 */

import * as fs from "node:fs";
import * as path from "node:path";
import { IoError, LockedError, NotFoundFileError } from "../errors.js";
import type { FileHandle, FileLock, FileSystem } from "./types.js";

function wrapError(e: unknown, what: string, file: string): Error {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOENT") return new NotFoundFileError(file, { cause: e });
  return new IoError(`${what} failed (${code ?? "unknown"})`, file, { cause: e });
}

function asUint8(buf: Buffer): Uint8Array {
  // A plain Uint8Array view: Buffer#slice shares memory, Uint8Array#slice copies; callers expect
  // the latter.
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.fdatasync(fd, (err) => (err ? reject(err) : resolve()));
  });
}

class NodeFileHandle implements FileHandle {
  private fd: number;
  private closed = false;
  private sizeBytes: number;

  constructor(
    readonly path: string,
    fd: number,
    size: number,
    private readonly writable: boolean,
  ) {
    this.fd = fd;
    this.sizeBytes = size;
  }

  private check(): void {
    if (this.closed) throw new IoError("file handle is closed", this.path);
  }

  readSync(buf: Uint8Array, bufOffset: number, length: number, position: number): number {
    this.check();
    let done = 0;
    try {
      while (done < length) {
        const n = fs.readSync(this.fd, buf, bufOffset + done, length - done, position + done);
        if (n === 0) break;
        done += n;
      }
    } catch (e) {
      throw wrapError(e, "read", this.path);
    }
    return done;
  }

  async read(
    buf: Uint8Array,
    bufOffset: number,
    length: number,
    position: number,
  ): Promise<number> {
    this.check();
    let done = 0;
    try {
      while (done < length) {
        const { bytesRead } = await readAsync(
          this.fd,
          buf,
          bufOffset + done,
          length - done,
          position + done,
        );
        if (bytesRead === 0) break;
        done += bytesRead;
      }
    } catch (e) {
      throw wrapError(e, "read", this.path);
    }
    return done;
  }

  appendSync(data: Uint8Array): void {
    this.check();
    if (!this.writable) throw new IoError("handle is read-only", this.path);
    let done = 0;
    try {
      while (done < data.length) {
        done += fs.writeSync(this.fd, data, done, data.length - done, this.sizeBytes + done);
      }
    } catch (e) {
      // Account for what reached the file so a retry does not leave a hole.
      this.sizeBytes += done;
      throw wrapError(e, "write", this.path);
    }
    this.sizeBytes += done;
  }

  async sync(): Promise<void> {
    this.check();
    try {
      await fdatasync(this.fd);
    } catch (e) {
      throw wrapError(e, "fdatasync", this.path);
    }
  }

  syncSync(): void {
    this.check();
    try {
      fs.fdatasyncSync(this.fd);
    } catch (e) {
      throw wrapError(e, "fdatasync", this.path);
    }
  }

  size(): number {
    return this.sizeBytes;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const fd = this.fd;
    this.fd = -1;
    await new Promise<void>((resolve, reject) =>
      fs.close(fd, (err) => (err ? reject(wrapError(err, "close", this.path)) : resolve())),
    );
  }
}

function readAsync(
  fd: number,
  buf: Uint8Array,
  offset: number,
  length: number,
  position: number,
): Promise<{ bytesRead: number }> {
  return new Promise((resolve, reject) => {
    fs.read(fd, buf, offset, length, position, (err, bytesRead) =>
      err ? reject(err) : resolve({ bytesRead }),
    );
  });
}

/** Returns true if a process with this pid exists (EPERM means it exists but is not ours). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

// Lock files held by this process, so that a lock file naming our own pid is recognised as
// either ours (a second open() in this process: refuse) or left by an earlier process that had
// the same pid (containers restart at the same pid: take over).
const heldLocks = new Set<string>();

export class NodeFileSystem implements FileSystem {
  async openReadable(p: string): Promise<FileHandle> {
    return this.openReadableSync(p);
  }

  openReadableSync(p: string): FileHandle {
    try {
      const fd = fs.openSync(p, "r");
      const size = fs.fstatSync(fd).size;
      return new NodeFileHandle(p, fd, size, false);
    } catch (e) {
      throw wrapError(e, "open", p);
    }
  }

  async createWritable(p: string): Promise<FileHandle> {
    try {
      const fd = fs.openSync(p, "w");
      return new NodeFileHandle(p, fd, 0, true);
    } catch (e) {
      throw wrapError(e, "create", p);
    }
  }

  async openAppendable(p: string): Promise<FileHandle> {
    try {
      const fd = fs.openSync(p, "r+");
      const size = fs.fstatSync(fd).size;
      return new NodeFileHandle(p, fd, size, true);
    } catch (e) {
      throw wrapError(e, "open", p);
    }
  }

  async readFile(p: string): Promise<Uint8Array> {
    try {
      return asUint8(await fs.promises.readFile(p));
    } catch (e) {
      throw wrapError(e, "read", p);
    }
  }

  async writeFileAtomic(p: string, data: Uint8Array): Promise<void> {
    const tmp = `${p}.tmp`;
    const h = await this.createWritable(tmp);
    try {
      h.appendSync(data);
      await h.sync();
    } finally {
      await h.close();
    }
    await this.rename(tmp, p);
    await this.syncDir(path.dirname(p));
  }

  async rename(from: string, to: string): Promise<void> {
    try {
      await fs.promises.rename(from, to);
    } catch (e) {
      throw wrapError(e, "rename", from);
    }
  }

  async remove(p: string): Promise<void> {
    try {
      await fs.promises.unlink(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
      throw wrapError(e, "remove", p);
    }
  }

  async exists(p: string): Promise<boolean> {
    try {
      await fs.promises.access(p);
      return true;
    } catch {
      return false;
    }
  }

  async list(dir: string): Promise<string[]> {
    try {
      return (await fs.promises.readdir(dir)).sort();
    } catch (e) {
      throw wrapError(e, "list", dir);
    }
  }

  async mkdir(dir: string): Promise<void> {
    try {
      await fs.promises.mkdir(dir, { recursive: true });
    } catch (e) {
      throw wrapError(e, "mkdir", dir);
    }
  }

  async syncDir(dir: string): Promise<void> {
    let fd: number;
    try {
      fd = fs.openSync(dir, "r");
    } catch (e) {
      throw wrapError(e, "open directory", dir);
    }
    try {
      await new Promise<void>((resolve, reject) =>
        fs.fsync(fd, (err) => (err ? reject(err) : resolve())),
      );
    } catch (e) {
      throw wrapError(e, "fsync directory", dir);
    } finally {
      fs.closeSync(fd);
    }
  }

  async lock(p: string): Promise<FileLock> {
    const abs = path.resolve(p);
    if (heldLocks.has(abs)) throw new LockedError(p, process.pid);
    // Two attempts: the second follows the removal of a stale lock.
    for (let attempt = 0; attempt < 2; attempt++) {
      let fd: number;
      try {
        fd = fs.openSync(abs, "wx");
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw wrapError(e, "lock", p);
        const holder = readLockPid(abs);
        // A lock file without a pid was left by a process that died between creating and
        // writing it; it is stale once it is older than any such window could be.
        const stale =
          holder === undefined
            ? lockAgeMs(abs) > EMPTY_LOCK_STALE_MS
            : holder === process.pid
              ? !heldLocks.has(abs)
              : !isProcessAlive(holder);
        if (!stale || attempt > 0) throw new LockedError(p, holder);
        // The holder is dead. Remove its lock only if it still names that pid, so that we do not
        // delete a lock another process just took over.
        if (readLockPid(abs) === holder) {
          try {
            fs.unlinkSync(abs);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw wrapError(err, "lock", p);
          }
        }
        continue;
      }
      try {
        fs.writeSync(fd, `${process.pid}\n`);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      heldLocks.add(abs);
      let released = false;
      return {
        release: async () => {
          if (released) return;
          released = true;
          heldLocks.delete(abs);
          if (readLockPid(abs) === process.pid) {
            try {
              fs.unlinkSync(abs);
            } catch (err) {
              if ((err as NodeJS.ErrnoException).code !== "ENOENT")
                throw wrapError(err, "unlock", p);
            }
          }
        },
      };
    }
    throw new LockedError(p, readLockPid(abs));
  }
}

const EMPTY_LOCK_STALE_MS = 5_000;

function lockAgeMs(p: string): number {
  try {
    return Date.now() - fs.statSync(p).mtimeMs;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** The pid written in a lock file, or undefined if it is missing/unreadable/empty. */
function readLockPid(p: string): number | undefined {
  try {
    const text = fs.readFileSync(p, "utf8").trim();
    const pid = Number.parseInt(text, 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
