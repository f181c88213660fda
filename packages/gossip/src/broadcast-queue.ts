interface Broadcast {
  readonly key: string;
  readonly bytes: Uint8Array;
  readonly order: number;
  /** Transmissions before it leaves the queue: limit() * weight, fixed when taken first. */
  readonly weight: number;
  transmits: number;
  readonly onDone: ((sent: boolean) => void) | undefined;
}

/**
 * Membership updates waiting to be piggybacked on outgoing datagrams (memberlist's
 * TransmitLimitedQueue). Each update goes out at most `limit()` times from this node, least
 * transmitted first and newest first among equals, so fresh news spreads before old news is
 * repeated. A newer update about the same member replaces the queued one: the old one is
 * superseded and sending it would only waste room.
 */
export class BroadcastQueue {
  private readonly items = new Map<string, Broadcast>();
  private order = 0;

  /** @param limit the retransmit limit for the current cluster size (read on every `take`). */
  constructor(private readonly limit: () => number) {}

  get size(): number {
    return this.items.size;
  }

  /**
   * Queues `bytes` (an encoded update) under `key` (the member it is about), replacing what was
   * queued under that key. `onDone(true)` runs once the update has been sent `limit()` times;
   * `onDone(false)` when it was replaced or cleared before that. `weight` multiplies the limit
   * for this update (rare, important news: joins and leaves).
   */
  enqueue(key: string, bytes: Uint8Array, onDone?: (sent: boolean) => void, weight = 1): void {
    const old = this.items.get(key);
    this.items.delete(key);
    this.items.set(key, { key, bytes, order: this.order++, weight, transmits: 0, onDone });
    old?.onDone?.(false);
  }

  /**
   * Takes updates that fit in `budgetBytes` together, counting one transmission for each; an
   * update that reached its limit leaves the queue.
   */
  take(budgetBytes: number): Uint8Array[] {
    if (this.items.size === 0) return [];
    const sorted = [...this.items.values()].sort(
      (a, b) => a.transmits - b.transmits || b.order - a.order,
    );
    const limit = this.limit();
    const out: Uint8Array[] = [];
    let left = budgetBytes;
    for (const item of sorted) {
      if (item.bytes.length > left) continue;
      left -= item.bytes.length;
      out.push(item.bytes);
      item.transmits++;
      if (item.transmits >= limit * item.weight) {
        this.items.delete(item.key);
        item.onDone?.(true);
      }
    }
    return out;
  }

  /** Drops everything (their `onDone(false)`s run). */
  clear(): void {
    const items = [...this.items.values()];
    this.items.clear();
    for (const item of items) item.onDone?.(false);
  }
}
