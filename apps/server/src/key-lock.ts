/**
 * Serialises async read-modify-write sections per key. A replica merge reads the stored
 * sibling set, merges, and writes it back; two merges of one key must not interleave or one
 * would overwrite the other's versions.
 *
 * A section starts at once when its key is free, else when the key's previous section has
 * settled (either way). Each key's entry is its last section's settlement and goes away when
 * that section ends with nobody queued behind it, so the map holds only busy keys.
 */
export class KeyLock {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key);
    const result = previous === undefined ? start(fn) : previous.then(fn);
    const tail = result.then(settled, settled);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Whether a section for `key` is running or waiting. */
  held(key: string): boolean {
    return this.tails.has(key);
  }

  /** Keys with a section running or waiting. */
  get size(): number {
    return this.tails.size;
  }
}

function settled(): void {}

/** Calls `fn` now; a synchronous throw becomes a rejection, as it would inside an async fn. */
function start<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn();
  } catch (e) {
    return Promise.reject(e);
  }
}
