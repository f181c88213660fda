/**
 * Latency recording in HDR histograms (hdr-histogram-js, microsecond resolution, 3 significant
 * digits) and the summary every report shows.
 */
import { build, type Histogram } from "hdr-histogram-js";

/** Longest latency tracked exactly: 60 s. Longer ones are clamped (and show as max = 60 s). */
export const MAX_TRACKED_MICROS = 60_000_000;

export function createLatencyHistogram(): Histogram {
  return build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: MAX_TRACKED_MICROS,
    numberOfSignificantValueDigits: 3,
    autoResize: false,
    useWebAssembly: false,
  });
}

/** Records a latency given in milliseconds (as performance.now() differences). */
export function recordMillis(h: Histogram, ms: number): void {
  h.recordValue(Math.min(MAX_TRACKED_MICROS, Math.max(1, Math.round(ms * 1000))));
}

/** Latency figures in milliseconds. */
export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

export function summarize(h: Histogram): LatencySummary {
  if (h.totalCount === 0) {
    return { count: 0, meanMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0 };
  }
  // A percentile reports its bucket's upper end, which can pass the exact max by < 0.1%;
  // clamped so that a table never shows p99.9 above max.
  const at = (p: number) => round3(Math.min(h.getValueAtPercentile(p), h.maxValue) / 1000);
  return {
    count: h.totalCount,
    meanMs: round3(h.mean / 1000),
    p50Ms: at(50),
    p90Ms: at(90),
    p99Ms: at(99),
    p999Ms: at(99.9),
    maxMs: round3(h.maxValue / 1000),
  };
}

/** A new histogram holding every value of `parts` (rounds merged into a target's total). */
export function mergeHistograms(parts: readonly Histogram[]): Histogram {
  const total = createLatencyHistogram();
  for (const p of parts) total.add(p);
  return total;
}
