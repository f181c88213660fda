/**
 * Durations on the command line (`--timeout`). The original Go client took Go durations
 * (`5s`, `500ms`, `2m`, `1m30s`); scripts also pass bare numbers, which mean seconds.
 */
import { InvalidDurationError } from "./errors.js";

/** Milliseconds per accepted unit. */
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * The largest duration accepted: Node's timer ceiling (2^31 - 1 ms, about 24.8 days). It also
 * fits RequestOptions.timeout_ms, a uint32.
 */
export const MAX_DURATION_MS = 2_147_483_647;

const NUMBER = String.raw`(?:\d+(?:\.\d*)?|\.\d+)`;
const BARE_SECONDS = new RegExp(`^${NUMBER}$`);
const COMPONENT = new RegExp(`(${NUMBER})(ms|s|m|h)`, "y");

/**
 * Parses `500ms`, `5s`, `2m`, `1h`, combinations such as `1m30s` or `1.5s`, or a bare number of
 * seconds (`5`, `0.25`) into whole milliseconds (a fraction of a millisecond rounds up, so a
 * tiny positive duration never becomes 0). Throws InvalidDurationError for anything else, for 0,
 * and above MAX_DURATION_MS.
 */
export function parseDuration(text: string, what = "duration"): number {
  const s = text.trim();
  if (s === "") throw new InvalidDurationError(`invalid ${what} "": expected e.g. 5s, 500ms or 2m`);
  let ms: number;
  if (BARE_SECONDS.test(s)) {
    ms = Number(s) * 1000;
  } else {
    ms = 0;
    let pos = 0;
    while (pos < s.length) {
      COMPONENT.lastIndex = pos;
      const m = COMPONENT.exec(s);
      if (m === null) {
        throw new InvalidDurationError(
          `invalid ${what} ${JSON.stringify(text)}: use a number with a unit (500ms, 5s, 2m, 1h, 1m30s) or a bare number of seconds`,
        );
      }
      ms += Number(m[1]) * (UNIT_MS[m[2] ?? ""] ?? Number.NaN);
      pos = COMPONENT.lastIndex;
    }
  }
  const whole = Math.ceil(ms);
  if (!Number.isFinite(whole) || whole <= 0) {
    throw new InvalidDurationError(`invalid ${what} ${JSON.stringify(text)}: must be above 0`);
  }
  if (whole > MAX_DURATION_MS) {
    throw new InvalidDurationError(
      `invalid ${what} ${JSON.stringify(text)}: must be at most ${formatDuration(MAX_DURATION_MS)}`,
    );
  }
  return whole;
}

/**
 * Formats whole milliseconds the way parseDuration reads them back: `500ms`, `5s`, `2m`,
 * `1m30s`, `1h2m3s450ms`. `parseDuration(formatDuration(ms)) === ms` for 0 < ms <= MAX.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return "0s";
  let rest = Math.round(ms);
  let out = "";
  for (const [unit, size] of [
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
    ["ms", 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}
