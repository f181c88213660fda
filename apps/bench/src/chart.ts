/**
 * A hand-written SVG chart of a run: throughput and p99 latency per target, side by side,
 * with p50 marked on the latency bars. Plain SVG 1.1, so browsers and rsvg-convert show it.
 */
import type { BenchReport } from "./report.js";

const COLORS: Record<string, string> = {
  distkv: "#2f6db5",
  etcd: "#3c9a5f",
  redis: "#c8453b",
};

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Round axis maximum and step for values up to `max` (1, 2 or 5 times a power of ten). */
export function niceScale(max: number, ticks = 5): { max: number; step: number } {
  if (!(max > 0)) return { max: 1, step: 0.2 };
  const raw = max / ticks;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? 10 * pow;
  // The epsilon keeps 5.000000001 steps from becoming 6; the check keeps the data covered.
  let top = Math.ceil(max / step - 1e-9) * step;
  if (top < max) top += step;
  return { max: top, step };
}

function label(v: number): string {
  if (v >= 10_000) return `${Math.round(v / 1000).toLocaleString("en-US")}k`;
  if (v >= 100) return Math.round(v).toLocaleString("en-US");
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** Axis labels with as many decimals as the step needs, and thousands separators. */
function tick(v: number, step: number): string {
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return v.toLocaleString("en-US", {
    minimumFractionDigits: Math.min(decimals, 3),
    maximumFractionDigits: Math.min(decimals, 3),
  });
}

interface Bar {
  name: string;
  label: string;
  value: number;
  marker?: number;
}

function panel(
  x: number,
  y: number,
  w: number,
  h: number,
  title: string,
  bars: Bar[],
  unit: string,
): string {
  const out: string[] = [];
  const { max, step } = niceScale(Math.max(...bars.map((b) => Math.max(b.value, b.marker ?? 0))));
  const plotX = x + 56;
  // Room on the right for the p50 label of the last bar.
  const plotW = w - 110;
  const plotY = y + 30;
  const plotH = h - 90;
  out.push(
    `<text x="${x + w / 2}" y="${y + 14}" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
  );
  for (let v = 0; v <= max + 1e-9; v += step) {
    const ty = plotY + plotH - (v / max) * plotH;
    out.push(
      `<line x1="${plotX}" y1="${ty.toFixed(1)}" x2="${plotX + plotW}" y2="${ty.toFixed(1)}" stroke="#ddd"/>`,
      `<text x="${plotX - 6}" y="${(ty + 4).toFixed(1)}" text-anchor="end" font-size="11" fill="#555">${tick(v, step)}</text>`,
    );
  }
  out.push(
    `<text x="${x + 12}" y="${plotY + plotH / 2}" font-size="11" fill="#555" text-anchor="middle" transform="rotate(-90 ${x + 12} ${plotY + plotH / 2})">${escapeXml(unit)}</text>`,
  );
  const slot = plotW / bars.length;
  const barW = Math.min(90, slot * 0.6);
  bars.forEach((b, i) => {
    const cx = plotX + slot * i + slot / 2;
    const bh = (b.value / max) * plotH;
    const by = plotY + plotH - bh;
    out.push(
      `<rect x="${(cx - barW / 2).toFixed(1)}" y="${by.toFixed(1)}" width="${barW.toFixed(1)}" height="${bh.toFixed(1)}" fill="${COLORS[b.name] ?? "#777"}"/>`,
      `<text x="${cx.toFixed(1)}" y="${(by - 5).toFixed(1)}" text-anchor="middle" font-size="12" font-weight="bold">${label(b.value)}</text>`,
    );
    if (b.marker !== undefined) {
      const my = plotY + plotH - (b.marker / max) * plotH;
      out.push(
        `<line x1="${(cx - barW / 2).toFixed(1)}" y1="${my.toFixed(1)}" x2="${(cx + barW / 2).toFixed(1)}" y2="${my.toFixed(1)}" stroke="#fff" stroke-width="2" stroke-dasharray="4 2"/>`,
        // Kept above the axis line when p50 is near zero.
        `<text x="${(cx + barW / 2 + 3).toFixed(1)}" y="${Math.min(my + 4, plotY + plotH - 3).toFixed(1)}" font-size="10" fill="#333">p50 ${label(b.marker)}</text>`,
      );
    }
    const words = b.label.split(" ");
    const first = words.slice(0, 3).join(" ");
    const rest = words.slice(3).join(" ");
    out.push(
      `<text x="${cx.toFixed(1)}" y="${plotY + plotH + 18}" text-anchor="middle" font-size="12">${escapeXml(first)}</text>`,
    );
    if (rest !== "") {
      out.push(
        `<text x="${cx.toFixed(1)}" y="${plotY + plotH + 33}" text-anchor="middle" font-size="11" fill="#555">${escapeXml(rest)}</text>`,
      );
    }
  });
  out.push(
    `<line x1="${plotX}" y1="${plotY + plotH}" x2="${plotX + plotW}" y2="${plotY + plotH}" stroke="#333"/>`,
  );
  return out.join("\n");
}

export function renderChart(report: BenchReport): string {
  const width = 980;
  const height = 470;
  const c = report.config;
  const targets = report.targets;
  const title = `Workload ${c.workload.toUpperCase()}: ${c.description}`;
  const sub = `${c.distribution} keys (${c.keyCount.toLocaleString("en-US")}), ${c.valueBytes} B values, ${c.concurrency} in flight, ${c.rounds} interleaved rounds per target`;
  const validity = report.valid
    ? "valid: no errors, same operation mix on every target"
    : `NOT VALID: ${report.reasons[0] ?? ""}${report.reasons.length > 1 ? ` (+${report.reasons.length - 1} more)` : ""}`;
  const machine = `${report.machine.cpus} cores, Node ${report.machine.node}, load avg ${report.machine.loadAverageStart[0]?.toFixed(1)} at start (shared machine), ${report.startedAt.slice(0, 16).replace("T", " ")} UTC`;
  const versions = targets.map((t) => `${t.name}: ${t.version.server}`).join("; ");
  const base = targets[0];
  const ratioLine =
    base === undefined
      ? ""
      : targets
          .slice(1)
          .map(
            (t) =>
              `${base.name} / ${t.name}: throughput ${(base.throughput / Math.max(t.throughput, 1e-9)).toFixed(2)}x, p99 ${(base.latency.p99Ms / Math.max(t.latency.p99Ms, 1e-9)).toFixed(2)}x`,
          )
          .join("; ");
  const body = [
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="20" y="28" font-size="18" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="20" y="48" font-size="13" fill="#444">${escapeXml(sub)}</text>`,
    `<text x="20" y="68" font-size="13" font-weight="bold" fill="#333">${escapeXml(ratioLine)}</text>`,
    panel(
      10,
      84,
      width / 2 - 20,
      322,
      "Throughput (ops/s), higher is better",
      targets.map((t) => ({ name: t.name, label: t.label, value: t.throughput })),
      "ops/s",
    ),
    panel(
      width / 2 + 10,
      84,
      width / 2 - 20,
      322,
      "p99 latency (ms), lower is better",
      targets.map((t) => ({
        name: t.name,
        label: t.label,
        value: t.latency.p99Ms,
        marker: t.latency.p50Ms,
      })),
      "ms",
    ),
    `<text x="20" y="${height - 44}" font-size="12" fill="${report.valid ? "#2a7a3a" : "#b22"}" font-weight="bold">${escapeXml(validity)}</text>`,
    `<text x="20" y="${height - 27}" font-size="11" fill="#555">${escapeXml(machine)}</text>`,
    `<text x="20" y="${height - 11}" font-size="11" fill="#555">${escapeXml(versions.length > 170 ? `${versions.slice(0, 167)}...` : versions)}</text>`,
  ];
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">
${body.join("\n")}
</svg>
`;
}
