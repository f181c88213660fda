/**
 * Exponential backoff with jitter for reconnecting a stream. Jitter spreads the reconnects of
 * many nodes that lost the same peer at the same moment.
 */
export interface BackoffOptions {
  /**
   * Delay after the first failure.
   * @default 50
   */
  initialMs?: number;
  /**
   * Upper bound of the delay.
   * @default 5000
   */
  maxMs?: number;
  /**
   * Growth factor per consecutive failure.
   * @default 2
   */
  multiplier?: number;
  /**
   * Fraction of the delay randomized: the delay is scaled by a factor in [1 - jitter, 1 + jitter].
   * @default 0.2
   */
  jitter?: number;
}

export const DEFAULT_BACKOFF_INITIAL_MS = 50;
export const DEFAULT_BACKOFF_MAX_MS = 5000;
export const DEFAULT_BACKOFF_MULTIPLIER = 2;
export const DEFAULT_BACKOFF_JITTER = 0.2;

export type ResolvedBackoffOptions = Readonly<Required<BackoffOptions>>;

export function resolveBackoffOptions(options: BackoffOptions = {}): ResolvedBackoffOptions {
  const r = {
    initialMs: options.initialMs ?? DEFAULT_BACKOFF_INITIAL_MS,
    maxMs: options.maxMs ?? DEFAULT_BACKOFF_MAX_MS,
    multiplier: options.multiplier ?? DEFAULT_BACKOFF_MULTIPLIER,
    jitter: options.jitter ?? DEFAULT_BACKOFF_JITTER,
  };
  if (!(Number.isFinite(r.initialMs) && r.initialMs >= 0)) {
    throw new RangeError(`backoff.initialMs must be >= 0, got ${r.initialMs}`);
  }
  if (!(Number.isFinite(r.maxMs) && r.maxMs >= r.initialMs)) {
    throw new RangeError(`backoff.maxMs must be >= initialMs, got ${r.maxMs}`);
  }
  if (!(Number.isFinite(r.multiplier) && r.multiplier >= 1)) {
    throw new RangeError(`backoff.multiplier must be >= 1, got ${r.multiplier}`);
  }
  if (!(Number.isFinite(r.jitter) && r.jitter >= 0 && r.jitter < 1)) {
    throw new RangeError(`backoff.jitter must be in [0, 1), got ${r.jitter}`);
  }
  return Object.freeze(r);
}

export class Backoff {
  private failures = 0;
  private readonly options: ResolvedBackoffOptions;
  private readonly random: () => number;

  constructor(options: ResolvedBackoffOptions, random: () => number = Math.random) {
    this.options = options;
    this.random = random;
  }

  /** Consecutive failures since the last success. */
  get attempts(): number {
    return this.failures;
  }

  /** Records a failure and returns how long to wait before the next attempt. */
  next(): number {
    const { initialMs, maxMs, multiplier, jitter } = this.options;
    const base = Math.min(maxMs, initialMs * multiplier ** this.failures);
    this.failures++;
    const factor = 1 - jitter + 2 * jitter * this.random();
    return Math.min(maxMs, Math.max(0, Math.round(base * factor)));
  }

  reset(): void {
    this.failures = 0;
  }
}
