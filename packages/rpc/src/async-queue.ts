/**
 * A single-consumer async queue: the producer pushes, one `for await` pulls. It has no bound
 * of its own on purpose: every user of it bounds what it pushes (the mux client by its
 * in-flight limits, the mux server by its handler slots), so the bound lives where the
 * policy is.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private head = 0;
  private waiter: ((r: IteratorResult<T>) => void) | undefined;
  private failWaiter: ((err: unknown) => void) | undefined;
  private ended = false;
  private error: { err: unknown } | undefined;

  /** Items pushed and not yet pulled. */
  get size(): number {
    return this.items.length - this.head;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Returns false (and drops the item) when the queue has ended. */
  push(item: T): boolean {
    if (this.ended) return false;
    const w = this.waiter;
    if (w !== undefined) {
      this.waiter = undefined;
      this.failWaiter = undefined;
      w({ value: item, done: false });
      return true;
    }
    this.items.push(item);
    return true;
  }

  /** No more items; the consumer sees the end after draining what is queued. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    const w = this.waiter;
    if (w !== undefined && this.size === 0) {
      this.waiter = undefined;
      this.failWaiter = undefined;
      w({ value: undefined, done: true });
    }
  }

  /** Ends the queue with an error, dropping queued items; the consumer's next pull throws. */
  fail(err: unknown): void {
    if (this.error !== undefined) return;
    this.ended = true;
    this.error = { err };
    this.items = [];
    this.head = 0;
    const f = this.failWaiter;
    if (f !== undefined) {
      this.waiter = undefined;
      this.failWaiter = undefined;
      f(err);
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.error !== undefined) return Promise.reject(this.error.err);
    if (this.head < this.items.length) {
      const value = this.items[this.head] as T;
      this.items[this.head] = undefined as T;
      this.head++;
      if (this.head === this.items.length) {
        this.items = [];
        this.head = 0;
      } else if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiter = resolve;
      this.failWaiter = reject;
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => this.next(),
      return: () => {
        this.end();
        this.items = [];
        this.head = 0;
        return Promise.resolve({ value: undefined, done: true });
      },
      // Connect makes request iterables abortable through throw(); like a generator that does
      // not catch, the queue ends and the error comes back.
      throw: (err?: unknown) => {
        this.end();
        this.items = [];
        this.head = 0;
        return Promise.reject(err);
      },
    };
  }
}
