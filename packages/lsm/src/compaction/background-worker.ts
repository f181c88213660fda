/**
 * The database side of the compaction worker thread: starts it on first use, posts jobs, and
 * turns replies back into promises. The worker is unref'd while idle so that an open database
 * never keeps a process alive by itself; close() terminates it (a merge cut short leaves only
 * unreferenced files, removed at the next open).
 *
 * From the TypeScript sources (tests, tsx) the worker loads its .ts module through tsx's loader;
 * from the compiled package it loads the .js next to this file.
 */

import { Worker } from "node:worker_threads";
import type { MergeResult } from "./compaction-job.js";
import { JobAborted } from "./job-context.js";
import {
  type CompactRequest,
  deserializeError,
  type WorkerInit,
  type WorkerReply,
} from "./worker-protocol.js";

interface Pending {
  resolve(r: MergeResult): void;
  reject(e: unknown): void;
}

export class BackgroundWorker {
  private worker: Worker | undefined;
  private ready: Promise<void> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stopped = false;

  constructor(private readonly init: WorkerInit) {}

  private start(): Promise<void> {
    if (this.ready !== undefined) return this.ready;
    const here = import.meta.url;
    let worker: Worker;
    if (here.endsWith(".ts")) {
      const url = new URL("./compaction-worker.ts", here).href;
      const code = `import("tsx/esm/api").then((m) => { m.register(); return import(${JSON.stringify(url)}); });`;
      worker = new Worker(code, { eval: true, workerData: this.init });
    } else {
      worker = new Worker(new URL("./compaction-worker.js", here), { workerData: this.init });
    }
    worker.unref();
    this.worker = worker;
    this.ready = new Promise<void>((resolve, reject) => {
      worker.on("message", (m: WorkerReply) => {
        if (m.type === "ready") {
          resolve();
          return;
        }
        const p = this.pending.get(m.id);
        if (p === undefined) return;
        this.pending.delete(m.id);
        if (this.pending.size === 0) worker.unref();
        if (m.type === "done") p.resolve(m.result);
        else p.reject(deserializeError(m.error));
      });
      const fail = (e: unknown): void => {
        reject(e);
        const err = this.stopped ? new JobAborted("closing") : e;
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
      };
      worker.on("error", fail);
      worker.on("exit", (code) => fail(new Error(`compaction worker exited with code ${code}`)));
    });
    return this.ready;
  }

  /** Runs one merge on the worker. */
  async compact(req: Omit<CompactRequest, "type" | "id">): Promise<MergeResult> {
    if (this.stopped) throw new JobAborted("closing");
    await this.start();
    const worker = this.worker!;
    const id = this.nextId++;
    return new Promise<MergeResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ type: "compact", id, ...req } satisfies CompactRequest);
    });
  }

  /** Stops the worker; a running merge fails with JobAborted. */
  async terminate(): Promise<void> {
    this.stopped = true;
    const w = this.worker;
    if (w === undefined) return;
    for (const p of this.pending.values()) p.reject(new JobAborted("closing"));
    this.pending.clear();
    await w.terminate();
  }
}
