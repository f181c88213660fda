/**
 * The compaction worker thread: merges tables (mergeCompaction) on the second core while the
 * event loop keeps serving reads and writes. It only reads input tables and writes new synced
 * output tables under file numbers the database reserved; the database installs the result in
 * the manifest itself. Used with NodeFileSystem only (the worker opens files by path).
 */

import { parentPort, workerData } from "node:worker_threads";
import { NodeFileSystem } from "../fs/node-fs.js";
import type { FileMeta } from "../manifest/file-meta.js";
import { TableCache } from "../table-cache.js";
import { mergeCompaction } from "./compaction-job.js";
import type { MergeContext } from "./job-context.js";
import {
  type CompactRequest,
  serializeError,
  type WorkerInit,
  type WorkerReply,
} from "./worker-protocol.js";

const port = parentPort!;
const init = workerData as WorkerInit;
const fs = new NodeFileSystem();
const tables = new TableCache(fs, init.dir, {
  maxOpenFiles: 1 << 16,
  verifyChecksums: init.verifyChecksums,
  blockCache: undefined,
});

function reply(m: WorkerReply): void {
  port.postMessage(m);
}

async function compact(req: CompactRequest): Promise<void> {
  let next = 0;
  const ctx: MergeContext = {
    fs,
    dir: init.dir,
    // No other work shares this thread: long slices cost nothing.
    table: { ...req.table, backgroundSliceMs: 1000 },
    pendingOutputs: new Set(),
    newFileNumber: () => {
      const n = req.numbers[next++];
      if (n === undefined) throw new Error("compaction worker ran out of reserved file numbers");
      return n;
    },
    canAllocate: () => next < req.numbers.length,
    isClosing: () => false,
    iterator: (f: FileMeta) => tables.iterator(f, false, true),
  };
  try {
    const result = await mergeCompaction(ctx, req.spec);
    reply({ type: "done", id: req.id, result });
  } catch (e) {
    reply({ type: "failed", id: req.id, error: serializeError(e) });
  } finally {
    // The inputs are about to become obsolete: do not keep their descriptors open.
    await tables.closeAll();
  }
}

port.on("message", (m: CompactRequest) => {
  if (m.type === "compact") void compact(m);
});
reply({ type: "ready" });
