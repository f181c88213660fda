/**
 * Per-key mutual exclusion in one process. The coordinator holds it while it reads its own copy,
 * derives the new version and stores it: two writes of one key coordinated here at the same time
 * would otherwise both read counter c and both hand out the dot (self, c + 1) for different
 * values, and replicas keep only one of two versions with the same dot.
 */
export class KeyLock {
  private readonly tails = new Map<string, Promise<void>>();

  /** Keys currently locked or waited for. */
  get size(): number {
    return this.tails.size;
  }

  /**
   * Resolves with a release function once the caller holds the lock for `id`. Rejects with
   * `onAbort()` if `signal` aborts first (the caller then never holds it).
   */
  acquire(id: string, signal: AbortSignal, onAbort: () => Error): Promise<() => void> {
    const prev = this.tails.get(id) ?? Promise.resolve();
    let releaseSlot!: () => void;
    const slot = new Promise<void>((resolve) => {
      releaseSlot = resolve;
    });
    const tail = prev.then(() => slot);
    this.tails.set(id, tail);
    void tail.then(() => {
      if (this.tails.get(id) === tail) this.tails.delete(id);
    });
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      releaseSlot();
    };
    return new Promise<() => void>((resolve, reject) => {
      if (signal.aborted) {
        // Our slot is already chained: free it as soon as it comes up.
        void prev.then(release);
        reject(onAbort());
        return;
      }
      const abort = () => {
        void prev.then(release);
        reject(onAbort());
      };
      signal.addEventListener("abort", abort, { once: true });
      void prev.then(() => {
        signal.removeEventListener("abort", abort);
        if (signal.aborted) {
          release();
          return;
        }
        resolve(release);
      });
    });
  }
}
