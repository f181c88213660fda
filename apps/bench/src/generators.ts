/**
 * Key choosers, after YCSB's generators (site.ycsb.generator): uniform, zipfian (Gray et al.,
 * "Quickly generating billion-record synthetic databases", SIGMOD 1994), scrambled zipfian and
 * skewed-latest. Each returns item numbers; the workload turns them into keys.
 */
import { fnvHash64Mod } from "./fnv-hash.js";
import type { Random } from "./random.js";
import { zeta, zetaRangeDirect } from "./zeta.js";

/** YCSB's zipfian constant. */
export const ZIPFIAN_CONSTANT = 0.99;
/** The scrambled zipfian draws from this many items and hashes them onto the key space (YCSB). */
export const SCRAMBLED_ITEM_COUNT = 10_000_000_000;

export interface KeyChooser {
  /** The next item number. */
  next(): number;
}

export class UniformChooser implements KeyChooser {
  constructor(
    private readonly random: Random,
    private readonly count: number,
  ) {}
  next(): number {
    return this.random.nextInt(this.count);
  }
}

/**
 * Items 0..count-1, item i drawn with probability 1 / ((i+1)^theta * zeta(count, theta)):
 * item 0 is the most popular. `nextFrom(count)` lets the item count grow (skewed-latest);
 * the normalising constant is extended incrementally, as YCSB does.
 */
export class ZipfianChooser implements KeyChooser {
  private readonly alpha: number;
  private readonly zeta2theta: number;
  private readonly halfPowTheta: number;
  private countForZeta: number;
  private zetan: number;
  private eta: number;

  constructor(
    private readonly random: Random,
    private readonly count: number,
    private readonly theta = ZIPFIAN_CONSTANT,
    zetan?: number,
  ) {
    if (!(count >= 1)) throw new RangeError("zipfian item count must be >= 1");
    this.alpha = 1 / (1 - theta);
    this.zeta2theta = zetaRangeDirect(0, 2, theta);
    this.halfPowTheta = 0.5 ** theta;
    this.countForZeta = count;
    this.zetan = zetan ?? zeta(count, theta);
    this.eta = this.etaFor(count);
  }

  /** The normalising constant in use: the most popular item's probability is 1 / zetan. */
  get normalizer(): number {
    return this.zetan;
  }

  private etaFor(n: number): number {
    return (1 - (2 / n) ** (1 - this.theta)) / (1 - this.zeta2theta / this.zetan);
  }

  next(): number {
    return this.nextFrom(this.count);
  }

  /** An item in [0, itemCount); itemCount may only grow between calls. */
  nextFrom(itemCount: number): number {
    if (itemCount > this.countForZeta) {
      this.zetan += zetaRangeDirect(this.countForZeta, itemCount, this.theta);
      this.countForZeta = itemCount;
      this.eta = this.etaFor(itemCount);
    }
    const u = this.random.nextDouble();
    const uz = u * this.zetan;
    if (uz < 1) return 0;
    if (uz < 1 + this.halfPowTheta) return Math.min(1, itemCount - 1);
    const item = Math.floor(itemCount * (this.eta * u - this.eta + 1) ** this.alpha);
    return Math.min(item, itemCount - 1);
  }
}

/**
 * YCSB's default request distribution: a zipfian over 10^10 items, each hashed (FNV-64) onto
 * the key space, so popular keys are scattered instead of clustered at the low numbers.
 */
export class ScrambledZipfianChooser implements KeyChooser {
  private readonly zipfian: ZipfianChooser;
  /** zeta(10^10, 0.99), computed once per process. */
  private static zetanCache: number | undefined;

  constructor(
    random: Random,
    private readonly count: number,
  ) {
    ScrambledZipfianChooser.zetanCache ??= zeta(SCRAMBLED_ITEM_COUNT, ZIPFIAN_CONSTANT);
    this.zipfian = new ZipfianChooser(
      random,
      SCRAMBLED_ITEM_COUNT,
      ZIPFIAN_CONSTANT,
      ScrambledZipfianChooser.zetanCache,
    );
  }

  /** Probability of the most popular underlying item (it lands on one key). */
  get hottestItemProbability(): number {
    return 1 / this.zipfian.normalizer;
  }

  next(): number {
    return fnvHash64Mod(this.zipfian.next(), this.count);
  }
}

/**
 * Workload D's "latest": a zipfian over recency, so the most recently inserted (and
 * acknowledged) item is the most popular. Returns item numbers in [1, last].
 */
export class SkewedLatestChooser implements KeyChooser {
  private readonly zipfian: ZipfianChooser;

  constructor(
    random: Random,
    private readonly last: () => number,
  ) {
    this.zipfian = new ZipfianChooser(random, Math.max(1, last()));
  }

  next(): number {
    const max = this.last();
    return max - this.zipfian.nextFrom(Math.max(1, max));
  }
}

/**
 * The highest item number below which every insert has been acknowledged (YCSB's
 * AcknowledgedCounterGenerator), so "latest" reads never ask for a key still being written.
 */
export class AcknowledgedCounter {
  private nextValue: number;
  private limit: number;
  private readonly acked = new Set<number>();

  /** Items below `start` exist already (the load phase). */
  constructor(start: number) {
    this.nextValue = start;
    this.limit = start - 1;
  }

  /** The next item number to insert. */
  take(): number {
    return this.nextValue++;
  }

  acknowledge(item: number): void {
    if (item <= this.limit) return;
    this.acked.add(item);
    while (this.acked.delete(this.limit + 1)) this.limit++;
  }

  /** The highest item such that it and all below it are acknowledged. */
  lastValue(): number {
    return this.limit;
  }
}
