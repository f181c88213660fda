import type { SiblingSet } from "@distkv/vclock";

/**
 * This node's own replica data (the server backs it with its LSM engine). Values are sibling
 * sets; the store decides how to encode them (`encodeSiblingSet` is the intended format).
 */
export interface ReplicaStore {
  /** The stored set for `key`, or `undefined` when nothing is stored (tombstones count as stored). */
  read(
    key: Uint8Array,
    options?: { signal?: AbortSignal },
  ): Promise<SiblingSet<Uint8Array> | undefined>;
  /**
   * Stores `sync(stored, incoming)` (@distkv/vclock) and returns it once durable. Must be atomic
   * per key: two merges of one key running at once must not lose each other's versions (read,
   * sync and write under a per-key lock, or in one synchronous step).
   */
  merge(
    key: Uint8Array,
    incoming: SiblingSet<Uint8Array>,
    options?: { signal?: AbortSignal },
  ): Promise<SiblingSet<Uint8Array>>;
}
