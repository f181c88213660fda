/**
 * Snapshots pin a sequence number: reads through a snapshot see exactly the writes with a
 * smaller or equal sequence. Compaction keeps every version some live snapshot can see, so a
 * snapshot costs no I/O to take, only the space of the old versions it keeps alive.
 */

import { ClosedError } from "./errors.js";

export class Snapshot {
  private live = true;
  /** @internal */
  constructor(
    /** Writes with sequence <= this are visible through the snapshot. */
    readonly sequence: number,
    private readonly list: SnapshotList,
  ) {}

  /** True until release() (or the database's close()). */
  get isLive(): boolean {
    return this.live;
  }

  /** Lets compaction drop the versions only this snapshot needed. Idempotent. */
  release(): void {
    if (!this.live) return;
    this.live = false;
    this.list.remove(this);
  }

  /** @internal */
  checkLive(): void {
    if (!this.live) throw new ClosedError("snapshot was released");
  }

  /** @internal */
  markReleased(): void {
    this.live = false;
  }
}

export class SnapshotList {
  // A Set iterates in insertion order and snapshots are taken with non-decreasing sequences,
  // so the first element is always the oldest.
  private readonly set = new Set<Snapshot>();

  create(sequence: number): Snapshot {
    const s = new Snapshot(sequence, this);
    this.set.add(s);
    return s;
  }

  remove(s: Snapshot): void {
    this.set.delete(s);
  }

  /** Sequence of the oldest live snapshot, or undefined if none. */
  oldest(): number | undefined {
    for (const s of this.set) return s.sequence;
    return undefined;
  }

  get size(): number {
    return this.set.size;
  }

  releaseAll(): void {
    for (const s of this.set) s.markReleased();
    this.set.clear();
  }
}
