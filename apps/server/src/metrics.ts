import { build, type Histogram } from "hdr-histogram-js";

/** Request counters and a latency histogram (microseconds) for the status call. */
export class NodeMetrics {
  private readonly histogram: Histogram = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 2,
  });
  private total = 0;
  private failed = 0;
  private readonly startedAt = Date.now();

  record(startedAtPerfMs: number, ok: boolean): void {
    this.total++;
    if (!ok) this.failed++;
    const micros = Math.max(1, Math.round((performance.now() - startedAtPerfMs) * 1000));
    this.histogram.recordValue(Math.min(micros, 60_000_000));
  }

  snapshot() {
    const h = this.histogram;
    return {
      requestsTotal: this.total,
      requestsFailed: this.failed,
      latencyAvgMs: this.total === 0 ? 0 : h.mean / 1000,
      latencyP50Ms: this.total === 0 ? 0 : h.getValueAtPercentile(50) / 1000,
      latencyP99Ms: this.total === 0 ? 0 : h.getValueAtPercentile(99) / 1000,
      uptimeSeconds: Math.floor((Date.now() - this.startedAt) / 1000),
    };
  }
}
