/**
 * The WAL file currently receiving writes, with the group-commit machinery around it.
 *
 * Writes of one event-loop turn are encoded with bufferRecord() and written by one flush()
 * (one appendSync). Sync writers then wait for an fdatasync; while one is in flight, newly
 * arriving sync writers queue for the next one, so N concurrent sync writers cost about two
 * fdatasyncs, not N. The directory entry of a fresh log is synced (once) before the first sync
 * writer is acknowledged, so an acknowledged write never sits in a file a power loss could unlink.
 */

import type { FileSystem } from "./fs/types.js";
import type { LogWriter } from "./wal/log-writer.js";

export interface SyncWaiter {
  resolve(): void;
  reject(e: unknown): void;
}

export class ActiveLog {
  private dirSynced = false;
  private waiting: SyncWaiter[] = [];
  private syncing: Promise<void> | null = null;
  /** fdatasync calls made (stats). */
  syncs = 0;

  constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    readonly writer: LogWriter,
    readonly number: number,
    /** Called when an fdatasync fails (the database then stops accepting writes). */
    public onError: (e: unknown) => void,
  ) {}

  /** Queues `w` to be resolved after the next fdatasync that covers everything written so far. */
  requestSync(w: SyncWaiter): void {
    this.waiting.push(w);
    if (this.syncing === null) this.syncing = this.syncLoop();
  }

  private async syncLoop(): Promise<void> {
    while (this.waiting.length > 0) {
      const batch = this.waiting;
      this.waiting = [];
      try {
        await this.syncNow();
        for (const w of batch) w.resolve();
      } catch (e) {
        for (const w of batch) w.reject(e);
        this.onError(e);
      }
    }
    this.syncing = null;
  }

  private async syncNow(): Promise<void> {
    this.writer.flush();
    if (!this.dirSynced) {
      await this.fs.syncDir(this.dir);
      this.dirSynced = true;
    }
    this.syncs++;
    await this.writer.file.sync();
  }

  /** Waits for queued syncs, makes everything written durable, and closes the file. */
  async syncAndClose(): Promise<void> {
    while (this.syncing !== null) await this.syncing;
    await this.syncNow();
    await this.writer.close();
  }

  /** Closes without syncing (after an error). */
  async abandon(): Promise<void> {
    while (this.syncing !== null) await this.syncing.catch(() => {});
    await this.writer.close().catch(() => {});
  }
}
