/** The terminal progress bar (cli-progress), shown only when stdout is a TTY. */
import cliProgress from "cli-progress";

export interface ProgressView {
  /** A new phase: `label` names it, `total` is its length in `unit`s. */
  phase(label: string, total: number, unit: "ms" | "ops"): void;
  /** Progress within the phase and the current rate. */
  update(done: number, opsPerSecond: number): void;
  /** Clears the bar's line so a log line can be printed; the bar redraws on the next update. */
  interrupt(): void;
  stop(): void;
}

export const silentProgress: ProgressView = {
  phase() {},
  update() {},
  interrupt() {},
  stop() {},
};

export function createTerminalProgress(): ProgressView {
  const bar = new cliProgress.SingleBar(
    {
      format: "{label} |{bar}| {percentage}% | {rate} ops/s | {shown}",
      hideCursor: true,
      clearOnComplete: true,
      stopOnComplete: false,
      barsize: 30,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let unit: "ms" | "ops" = "ops";
  return {
    phase(label, total, u) {
      unit = u;
      const payload = { label: label.padEnd(28), rate: "-", shown: "" };
      if (!started) {
        bar.start(Math.max(1, Math.round(total)), 0, payload);
        started = true;
      } else {
        bar.setTotal(Math.max(1, Math.round(total)));
        bar.update(0, payload);
      }
    },
    update(done, rate) {
      if (!started) return;
      bar.update(Math.round(done), {
        rate: Math.round(rate).toLocaleString("en-US").padStart(7),
        shown: unit === "ms" ? `${(done / 1000).toFixed(1)} s` : `${Math.round(done)} ops`,
      });
    },
    interrupt() {
      if (started) process.stdout.write("\r\x1b[2K");
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}
