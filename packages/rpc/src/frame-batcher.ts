/**
 * Coalesces frames into stream messages. With coalescing on, every frame added during one
 * event-loop turn goes out in ONE message, flushed from `setImmediate` (which runs after the
 * poll phase, so frames produced by all the I/O callbacks of a turn travel together). One
 * message per turn instead of one per frame is what lifts a Connect stream from a few thousand
 * to tens of thousands of calls per second: the per-message cost (envelope, write, HTTP/2 DATA
 * frame, a read and a decode on the other side) is paid once per turn.
 *
 * A batch is flushed early when it would pass `maxBatchBytes`, so one message stays below the
 * receiver's per-message limit (connect-node's readMaxBytes), and when it holds
 * `maxBatchFrames` frames, so the receiver can start on the first frames of a turn while the
 * sender is still producing the rest (one message per turn made the two ends of a pipeline
 * take turns, each idle while the other worked).
 */
export interface FrameBatcherOptions {
  /** Off: every frame is its own message (one write per frame). */
  readonly coalesce: boolean;
  /** Flush before the estimated size of a batch passes this. */
  readonly maxBatchBytes: number;
  /** Flush once a batch holds this many frames. @default unlimited */
  readonly maxBatchFrames?: number;
}

export interface FrameBatcherStats {
  /** Stream messages flushed. */
  messages: number;
  /** Frames flushed. */
  frames: number;
}

export class FrameBatcher<F> {
  private batch: F[] = [];
  private batchBytes = 0;
  private scheduled: NodeJS.Immediate | undefined;
  private readonly flushFn: (frames: F[], bytes: number) => void;
  private readonly options: FrameBatcherOptions;
  readonly stats: FrameBatcherStats = { messages: 0, frames: 0 };

  /** `flushFn` gets the frames of one message and the sum of the sizes they were added with. */
  constructor(flushFn: (frames: F[], bytes: number) => void, options: FrameBatcherOptions) {
    this.flushFn = flushFn;
    this.options = options;
  }

  /** Frames waiting for the next flush. */
  get pending(): number {
    return this.batch.length;
  }

  add(frame: F, bytes: number): void {
    if (!this.options.coalesce) {
      this.emit([frame], bytes);
      return;
    }
    if (this.batch.length > 0 && this.batchBytes + bytes > this.options.maxBatchBytes) {
      this.flush();
    }
    this.batch.push(frame);
    this.batchBytes += bytes;
    if (this.batch.length >= (this.options.maxBatchFrames ?? Number.POSITIVE_INFINITY)) {
      this.flush();
      return;
    }
    if (this.scheduled === undefined) {
      this.scheduled = setImmediate(() => {
        this.scheduled = undefined;
        this.flush();
      });
    }
  }

  /** Sends what is batched now. */
  flush(): void {
    if (this.scheduled !== undefined) {
      clearImmediate(this.scheduled);
      this.scheduled = undefined;
    }
    if (this.batch.length === 0) return;
    const frames = this.batch;
    const bytes = this.batchBytes;
    this.batch = [];
    this.batchBytes = 0;
    this.emit(frames, bytes);
  }

  /** Drops batched frames and any scheduled flush (the stream they were for is gone). */
  discard(): void {
    if (this.scheduled !== undefined) {
      clearImmediate(this.scheduled);
      this.scheduled = undefined;
    }
    this.batch = [];
    this.batchBytes = 0;
  }

  private emit(frames: F[], bytes: number): void {
    this.stats.messages++;
    this.stats.frames += frames.length;
    this.flushFn(frames, bytes);
  }
}
