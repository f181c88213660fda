import type { LogLevel } from "./config.js";

/** Structured logger: one logfmt line per event on stderr. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  forComponent(component: string): Logger;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

function formatValue(v: unknown): string {
  if (v instanceof Error) return JSON.stringify(v.message);
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return /^[\w.:/@+-]+$/.test(s ?? "") ? (s as string) : JSON.stringify(s);
}

export function createLogger(
  level: LogLevel,
  base: Record<string, unknown> = {},
  write: (line: string) => void = (line) => process.stderr.write(line),
): Logger {
  const min = RANK[level];
  const emit = (
    lvl: Exclude<LogLevel, "silent">,
    msg: string,
    fields?: Record<string, unknown>,
  ) => {
    if (RANK[lvl] < min) return;
    let line = `time=${new Date().toISOString()} level=${lvl}`;
    for (const [k, v] of Object.entries(base)) line += ` ${k}=${formatValue(v)}`;
    line += ` msg=${JSON.stringify(msg)}`;
    if (fields !== undefined) {
      for (const [k, v] of Object.entries(fields))
        if (v !== undefined) line += ` ${k}=${formatValue(v)}`;
    }
    write(`${line}\n`);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    forComponent: (component) => createLogger(level, { ...base, component }, write),
  };
}
