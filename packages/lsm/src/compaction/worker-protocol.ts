/**
 * Messages between the database and its compaction worker thread. Everything is plain data
 * (structured clone): file descriptions, settings, reserved file numbers; errors travel as
 * their name and fields and are rebuilt as the same error classes on the other side.
 */

import { CorruptionError, IoError, LsmError, NotFoundFileError } from "../errors.js";
import type { MergeResult, MergeSpec } from "./compaction-job.js";
import type { TableSettings } from "./job-context.js";

export interface WorkerInit {
  dir: string;
  verifyChecksums: boolean;
}

export interface CompactRequest {
  type: "compact";
  id: number;
  spec: MergeSpec;
  /** File numbers reserved for the outputs, used in order. */
  numbers: number[];
  table: TableSettings;
}

export type WorkerReply =
  | { type: "ready" }
  | { type: "done"; id: number; result: MergeResult }
  | { type: "failed"; id: number; error: SerializedError };

export interface SerializedError {
  name: string;
  message: string;
  file?: string;
  offset?: number;
  reason?: string;
}

export function serializeError(e: unknown): SerializedError {
  if (e instanceof Error) {
    const out: SerializedError = { name: e.name, message: e.message };
    const x = e as Error & { file?: unknown; offset?: unknown; reason?: unknown };
    if (typeof x.file === "string") out.file = x.file;
    if (typeof x.offset === "number") out.offset = x.offset;
    if (typeof x.reason === "string") out.reason = x.reason;
    return out;
  }
  return { name: "Error", message: String(e) };
}

export function deserializeError(s: SerializedError): Error {
  switch (s.name) {
    case "CorruptionError":
      return new CorruptionError(s.file ?? "<unknown>", s.offset ?? 0, s.reason ?? s.message);
    case "NotFoundFileError":
      return new NotFoundFileError(s.file ?? s.message);
    case "IoError":
      return new IoError(s.message);
    default: {
      const e = new LsmError(`compaction worker: ${s.message}`);
      return e;
    }
  }
}
