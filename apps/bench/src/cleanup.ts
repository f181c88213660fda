/**
 * Everything a run starts (server processes, temp dirs, clients) is registered here, and
 * released in reverse order by runAll(), whatever ended the run: success, error or Ctrl-C.
 * runAllSync() is the last resort from process.on("exit"), where nothing async can run.
 */
import { rmSync } from "node:fs";
import { rm } from "node:fs/promises";
import { messageOf } from "./errors.js";

export interface ProcessHandle {
  readonly name: string;
  isRunning(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL at once (synchronous). */
  killNow(): void;
}

type Entry =
  | { kind: "process"; process: ProcessHandle }
  | { kind: "dir"; path: string }
  | { kind: "child"; registry: CleanupRegistry }
  | { kind: "action"; name: string; run: () => Promise<void> | void };

export class CleanupRegistry {
  private entries: Entry[] = [];
  private readonly onError: (message: string) => void;

  constructor(onError: (message: string) => void = () => {}) {
    this.onError = onError;
  }

  /** How many resources are still held (tests check it drops to zero). */
  get size(): number {
    return this.entries.length;
  }

  addProcess(process: ProcessHandle): void {
    this.entries.push({ kind: "process", process });
  }

  addDir(path: string): void {
    this.entries.push({ kind: "dir", path });
  }

  /** A registry of its own (one per target), released in this one's order. */
  addChild(registry: CleanupRegistry): void {
    this.entries.push({ kind: "child", registry });
  }

  add(name: string, run: () => Promise<void> | void): void {
    this.entries.push({ kind: "action", name, run });
  }

  /** Releases everything registered since the last call, newest first; never throws. */
  async runAll(): Promise<void> {
    const entries = this.entries.reverse();
    this.entries = [];
    for (const e of entries) {
      try {
        if (e.kind === "process") await e.process.stop();
        else if (e.kind === "dir") await rm(e.path, { recursive: true, force: true });
        else if (e.kind === "child") await e.registry.runAll();
        else await e.run();
      } catch (err) {
        const what =
          e.kind === "process"
            ? e.process.name
            : e.kind === "dir"
              ? e.path
              : e.kind === "child"
                ? "a target"
                : e.name;
        this.onError(`cleanup of ${what} failed: ${messageOf(err)}`);
        if (e.kind === "process") e.process.killNow();
      }
    }
  }

  /** Kills what still runs and deletes dirs without waiting (for process.on("exit")). */
  runAllSync(): void {
    const entries = this.entries.reverse();
    this.entries = [];
    for (const e of entries) {
      try {
        if (e.kind === "process" && e.process.isRunning()) e.process.killNow();
        if (e.kind === "child") e.registry.runAllSync();
      } catch {
        // Nothing more can be done while the process exits.
      }
    }
    for (const e of entries) {
      if (e.kind !== "dir") continue;
      try {
        rmSync(e.path, { recursive: true, force: true });
      } catch {
        // As above.
      }
    }
  }
}
