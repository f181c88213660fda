/**
 * A log-bucket latency histogram: each power of two is split into 32 linear sub-buckets, so a
 * recorded value is known within 1/32 (about 3%) of itself. Values are milliseconds; the
 * resolution floor is 1 microsecond.
 */

const SUB_BITS = 5;
const SUB = 1 << SUB_BITS;
const MAX_EXP = 40; // 2^40 microseconds is about 12 days

export class Histogram {
  private readonly counts = new Float64Array((MAX_EXP + 1) * SUB);
  private n = 0;
  private maxMs = 0;

  /** Records one value in milliseconds. */
  record(ms: number): void {
    const us = Math.max(1, Math.round(ms * 1000));
    this.counts[bucketOf(us)]!++;
    this.n++;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  get count(): number {
    return this.n;
  }

  get max(): number {
    return this.maxMs;
  }

  /** The value at percentile p (0..100), in milliseconds (bucket midpoint). */
  percentile(p: number): number {
    if (this.n === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.n));
    let seen = 0;
    for (let b = 0; b < this.counts.length; b++) {
      seen += this.counts[b]!;
      if (seen >= rank) return bucketMid(b) / 1000;
    }
    return this.maxMs;
  }
}

function bucketOf(us: number): number {
  if (us < SUB) return us; // exact below 32 us
  const exp = Math.min(MAX_EXP, Math.floor(Math.log2(us)));
  const sub = Math.floor(us / 2 ** (exp - SUB_BITS)) - SUB; // 0..31
  return (exp - SUB_BITS + 1) * SUB + sub;
}

function bucketMid(b: number): number {
  if (b < SUB) return b;
  const exp = Math.floor(b / SUB) + SUB_BITS - 1;
  const sub = b % SUB;
  const width = 2 ** (exp - SUB_BITS);
  return (SUB + sub) * width + width / 2;
}
