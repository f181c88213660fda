/**
 * A FileSystem over a MemoryFileSystem that cuts the power at the Nth state-changing call
 * (append, sync, create, rename, remove, directory sync, atomic write): at that instant it takes
 * `crash()` of the inner filesystem, i.e. an image of what a power loss right then would leave,
 * and lets the run continue. So crashes land anywhere, including inside background flushes,
 * compactions and manifest swaps, not only between operations.
 */

import type {
  CrashOptions,
  FileHandle,
  FileLock,
  FileSystem,
  MemoryFileSystem,
} from "../../src/index.js";

export class CrashPointFileSystem implements FileSystem {
  private calls = 0;
  image: MemoryFileSystem | undefined;
  /** Called at the crash instant (e.g. to record which writes were acknowledged by then). */
  onCrash: () => void = () => {};

  constructor(
    readonly inner: MemoryFileSystem,
    private readonly crashAt: number,
    private readonly crashOptions: CrashOptions,
  ) {}

  get callCount(): number {
    return this.calls;
  }

  /** Counts a state-changing call; the crash image is taken just BEFORE call number crashAt. */
  private tick(): void {
    this.calls++;
    if (this.calls === this.crashAt) this.crashNow();
  }

  crashNow(): void {
    if (this.image !== undefined) return;
    this.image = this.inner.crash(this.crashOptions);
    this.onCrash();
  }

  private wrap(h: FileHandle): FileHandle {
    return {
      path: h.path,
      readSync: (b, o, l, p) => h.readSync(b, o, l, p),
      read: (b, o, l, p) => h.read(b, o, l, p),
      appendSync: (d) => {
        this.tick();
        h.appendSync(d);
      },
      sync: async () => {
        this.tick();
        await h.sync();
      },
      syncSync: () => {
        this.tick();
        h.syncSync();
      },
      size: () => h.size(),
      close: () => h.close(),
    };
  }

  openReadable(path: string): Promise<FileHandle> {
    return this.inner.openReadable(path);
  }
  openReadableSync(path: string): FileHandle {
    return this.inner.openReadableSync(path);
  }
  async createWritable(path: string): Promise<FileHandle> {
    this.tick();
    return this.wrap(await this.inner.createWritable(path));
  }
  async openAppendable(path: string): Promise<FileHandle> {
    return this.wrap(await this.inner.openAppendable(path));
  }
  readFile(path: string): Promise<Uint8Array> {
    return this.inner.readFile(path);
  }
  async writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
    this.tick();
    await this.inner.writeFileAtomic(path, data);
  }
  async rename(from: string, to: string): Promise<void> {
    this.tick();
    await this.inner.rename(from, to);
  }
  async remove(path: string): Promise<void> {
    this.tick();
    await this.inner.remove(path);
  }
  exists(path: string): Promise<boolean> {
    return this.inner.exists(path);
  }
  list(dir: string): Promise<string[]> {
    return this.inner.list(dir);
  }
  mkdir(dir: string): Promise<void> {
    return this.inner.mkdir(dir);
  }
  async syncDir(dir: string): Promise<void> {
    this.tick();
    await this.inner.syncDir(dir);
  }
  lock(path: string): Promise<FileLock> {
    return this.inner.lock(path);
  }
}
