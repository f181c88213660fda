import { type SiblingSet, sync } from "@distkv/vclock";
import { keyFromId, keyId } from "./key.js";
import type { ReplicaStore } from "./replica-store.js";

/**
 * A ReplicaStore in a Map, for tests, simulation and examples. Not durable. `merge` is one
 * synchronous step, hence atomic per key.
 */
export class InMemoryReplicaStore implements ReplicaStore {
  private readonly data = new Map<string, SiblingSet<Uint8Array>>();

  /** Keys stored. */
  get size(): number {
    return this.data.size;
  }

  async read(key: Uint8Array): Promise<SiblingSet<Uint8Array> | undefined> {
    return this.data.get(keyId(key));
  }

  async merge(key: Uint8Array, incoming: SiblingSet<Uint8Array>): Promise<SiblingSet<Uint8Array>> {
    const id = keyId(key);
    const stored = this.data.get(id);
    const merged = stored === undefined ? incoming : sync(stored, incoming);
    this.data.set(id, merged);
    return merged;
  }

  /** Synchronous peek, for tests. */
  peek(key: Uint8Array | string): SiblingSet<Uint8Array> | undefined {
    return this.data.get(
      typeof key === "string" ? keyId(new TextEncoder().encode(key)) : keyId(key),
    );
  }

  /** Every stored (key, set), for tests. */
  *entries(): IterableIterator<[Uint8Array, SiblingSet<Uint8Array>]> {
    for (const [id, set] of this.data) yield [keyFromId(id), set];
  }
}
