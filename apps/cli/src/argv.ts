/**
 * Command-line preprocessing before yargs sees the arguments.
 *
 * 1. The original Go client documented Go-flag style long options with one dash
 *    (`-server=localhost:8080`, `-consistency=all`, `-timeout 2s`). yargs reads `-server` as the
 *    short flags s, e, r, v, e, r, so known long names written with one dash become `--name`.
 *    Single-letter flags (`-h`) keep their meaning; any other single-dash word is reported as
 *    an unknown option here, with a better message than yargs' list of letters.
 * 2. After `--`, every argument is a positional even if it starts with a dash (a value such as
 *    `-42x` or a key such as `--weird`). yargs does not fill a command's positionals from
 *    arguments after `--`, so each such argument is swapped for a placeholder yargs treats as a
 *    plain word, and swapped back after parsing (`restore`, `restoreText`). A lone `-` (the
 *    value read from stdin) is protected the same way: yargs would turn it into "".
 */
import { UsageError } from "./errors.js";

export interface ArgvSpec {
  /** Long option names (no dashes) that may also be written with a single dash. */
  readonly longOptions: readonly string[];
  /** Single-letter flags that keep their short meaning, e.g. `h` for `-h`. */
  readonly shortFlags: readonly string[];
}

export interface NormalizedArgv {
  /** The arguments to hand to yargs. */
  readonly args: readonly string[];
  /** Undoes the `--` protection for one parsed argument (others pass through unchanged). */
  restore(value: string): string;
  /** Undoes the `--` protection inside a message (yargs quotes arguments in its errors). */
  restoreText(text: string): string;
}

// NUL cannot occur in a real process argument (argv entries are C strings), so a placeholder
// built from it can never collide with anything the user typed.
const MARK = "\u0000";

const SINGLE_DASH = /^-([A-Za-z][A-Za-z0-9-]*)(=[\s\S]*)?$/;

/** Rewrites single-dash long options and protects arguments after `--`. See the file comment. */
export function normalizeArgv(argv: readonly string[], spec: ArgvSpec): NormalizedArgv {
  const longs = new Set(spec.longOptions);
  const shorts = new Set(spec.shortFlags);
  const args: string[] = [];
  const originals = new Map<string, string>();
  let afterDashDash = false;
  const protect = (token: string) => {
    const placeholder = `${MARK}${originals.size}${MARK}`;
    originals.set(placeholder, token);
    args.push(placeholder);
  };
  for (const token of argv) {
    if (afterDashDash) {
      if (token.startsWith("-")) protect(token);
      else args.push(token);
      continue;
    }
    if (token === "-") {
      // "-" (read stdin) is a positional, but yargs turns it into "" when it fills one.
      protect(token);
      continue;
    }
    if (token === "--") {
      afterDashDash = true;
      continue;
    }
    const m = SINGLE_DASH.exec(token);
    if (m === null) {
      // `--long`, `-5` (a negative number) and plain words go through as they are.
      args.push(token);
      continue;
    }
    const name = m[1] ?? "";
    if (longs.has(name)) {
      args.push(`-${token}`);
    } else if (m[2] === undefined && [...name].every((c) => shorts.has(c))) {
      args.push(token);
    } else {
      throw new UsageError(
        `unknown option -${name}` +
          ` (a key or value that starts with "-" goes after "--", e.g. put -- -key -value)`,
      );
    }
  }
  return {
    args,
    restore: (value) => originals.get(value) ?? value,
    restoreText: (text) => {
      if (!text.includes(MARK)) return text;
      let out = text;
      for (const [placeholder, original] of originals) out = out.replaceAll(placeholder, original);
      return out;
    },
  };
}
