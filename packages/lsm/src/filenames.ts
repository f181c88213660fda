/**
 * The single place that names the files of a database directory (as leveldb's filename.cc):
 *
 *   000123.log        write-ahead log
 *   000124.sst        table
 *   MANIFEST-000005   manifest (log of version edits)
 *   CURRENT           names the live manifest ("MANIFEST-000005\n"), replaced atomically
 *   LOCK              held while a process has the database open
 *   *.tmp, *.dbtmp    temporaries; anything of this shape found at open is a leftover and removed
 *
 * Paths are joined with "/" so that the in-memory filesystem sees the same strings.
 */

export const FileType = {
  Log: "log",
  Table: "table",
  Manifest: "manifest",
  Current: "current",
  Lock: "lock",
  Temp: "temp",
} as const;
export type FileType = (typeof FileType)[keyof typeof FileType];

function pad(n: number): string {
  return String(n).padStart(6, "0");
}

export function joinPath(dir: string, name: string): string {
  return dir.endsWith("/") ? `${dir}${name}` : `${dir}/${name}`;
}

export function logFileName(n: number): string {
  return `${pad(n)}.log`;
}
export function tableFileName(n: number): string {
  return `${pad(n)}.sst`;
}
export function manifestFileName(n: number): string {
  return `MANIFEST-${pad(n)}`;
}
export const CURRENT_FILE = "CURRENT";
export const LOCK_FILE = "LOCK";

export interface ParsedFileName {
  type: FileType;
  number: number;
}

/** Classifies a directory entry; undefined for names that are not ours (left alone). */
export function parseFileName(name: string): ParsedFileName | undefined {
  if (name === CURRENT_FILE) return { type: FileType.Current, number: 0 };
  if (name === LOCK_FILE) return { type: FileType.Lock, number: 0 };
  let m = /^MANIFEST-(\d+)$/.exec(name);
  if (m) return { type: FileType.Manifest, number: Number(m[1]) };
  m = /^(\d+)\.(log|sst)$/.exec(name);
  if (m) return { type: m[2] === "log" ? FileType.Log : FileType.Table, number: Number(m[1]) };
  if (/\.(tmp|dbtmp)$/.test(name)) return { type: FileType.Temp, number: 0 };
  return undefined;
}
