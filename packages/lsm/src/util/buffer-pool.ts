/**
 * A few idle buffers of one size class, kept for reuse. Large transient buffers (compaction
 * read windows, table write buffers) would otherwise be freed and reallocated for every table:
 * with glibc's malloc that churn leaves the process holding far more memory than it uses (a
 * freed block of this size raises the allocator's mmap threshold, so later ones come from the
 * heap and fragment it), and fresh memory costs page faults.
 *
 * Shared by every database of the process (and per worker thread); holds at most
 * `maxIdle` buffers of `bytes` each while nothing uses them.
 */
export class BufferPool {
  private readonly idle: Uint8Array[] = [];

  constructor(
    /** Size of the buffers handed out (larger requests get a larger, unpooled buffer). */
    readonly bytes: number,
    /** Idle buffers kept at most. */
    readonly maxIdle: number,
  ) {}

  /** A buffer of at least `min` bytes (contents undefined). */
  take(min: number = this.bytes): Uint8Array {
    if (min <= this.bytes) {
      const b = this.idle.pop();
      if (b !== undefined) return b;
      return allocUninitialized(this.bytes);
    }
    return allocUninitialized(min);
  }

  /**
   * Returns a buffer taken from this pool. The caller must hold no view of it any more. Buffers
   * of another size are left to the garbage collector.
   */
  give(buf: Uint8Array): void {
    if (buf.byteLength !== this.bytes || buf.byteOffset !== 0) return;
    if (this.idle.length < this.maxIdle && !this.idle.includes(buf)) this.idle.push(buf);
  }

  /** Idle buffers held (tests). */
  get idleCount(): number {
    return this.idle.length;
  }
}

/** An off-heap buffer whose contents are not zeroed (every use overwrites what it reads). */
export function allocUninitialized(n: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(n);
  return new Uint8Array(b.buffer, b.byteOffset, n);
}
