import type { SiblingSet } from "@distkv/vclock";

/** A write held for another node (the sloppy-quorum "hint"). */
export interface Hint {
  /** The node the write belongs to, to which it is handed back. */
  readonly targetNodeId: string;
  readonly key: Uint8Array;
  readonly set: SiblingSet<Uint8Array>;
  /**
   * Changes whenever the hint changes (every `put` that merges into it). `delete` takes it so a
   * hint that received newer data while being delivered is kept for the next round.
   */
  readonly version: number;
  /**
   * When the oldest data in the hint was stored (ms since the epoch, the holder's clock): a
   * merge keeps the earlier time, so the age bounds how stale the hint's data may be.
   */
  readonly createdMs: number;
}

/** Outcome of `HintStore.put`. */
export type HintPutResult = "created" | "merged" | "full";

/**
 * Durable storage for hints on a substitute node (the server backs it with its LSM engine;
 * `InMemoryHintStore` serves tests). One hint per (target, key): a second write for the same
 * pair is merged into the first with `sync`, so the queue is bounded by distinct keys.
 */
export interface HintStore {
  /** Hints stored, over all targets. Synchronous: implementations keep the count in memory. */
  readonly size: number;
  /**
   * Stores `set` for (targetNodeId, key), merging with an existing hint (`sync`), durably before
   * resolving; `nowMs` becomes the hint's `createdMs` unless the hint existed (it keeps its
   * own). Returns `"full"` and stores nothing when the pair is new and `size >= maxHints`.
   */
  put(
    targetNodeId: string,
    key: Uint8Array,
    set: SiblingSet<Uint8Array>,
    maxHints: number,
    nowMs: number,
  ): Promise<HintPutResult>;
  /** The nodes that have hints waiting. */
  targets(): Promise<string[]>;
  /** Up to `limit` hints for one target, in any stable order. */
  list(targetNodeId: string, limit: number): Promise<Hint[]>;
  /**
   * Deletes the hint for (targetNodeId, key) if its `version` is still `version`; returns whether
   * it deleted. Called only after the target acknowledged the hint's data.
   */
  delete(targetNodeId: string, key: Uint8Array, version: number): Promise<boolean>;
  /** Deletes every hint, of any target, with `createdMs < cutoffMs`; returns how many. */
  expire(cutoffMs: number): Promise<number>;
}
