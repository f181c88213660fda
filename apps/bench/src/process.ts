/** Starting server processes, finding binaries and free ports. */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { createServer } from "node:net";
import { delimiter, isAbsolute, join } from "node:path";
import type { ProcessHandle } from "./cleanup.js";
import { BenchAbortedError } from "./errors.js";

/** Keep this much of a process's output, for error messages. */
const OUTPUT_TAIL_CHARS = 16_384;

export interface StartProcessOptions {
  name: string;
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Output (stdout or stderr) that means the process is ready. */
  ready: RegExp;
  /** @default 30000 */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called with the process before waiting, so it is cleaned up even if it never gets ready. */
  register: (p: ManagedProcess) => void;
}

export class ManagedProcess implements ProcessHandle {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  private tail = "";

  constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.child = child;
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once("exit", () => resolve());
    });
    const collect = (chunk: Buffer) => {
      this.tail = (this.tail + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
    };
    // Always drain both pipes: a server blocked on a full pipe stalls the benchmark.
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The last 16 KiB of stdout and stderr. */
  output(): string {
    return this.tail;
  }

  isRunning(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async stop(graceMs = 10_000): Promise<void> {
    if (!this.isRunning()) return;
    this.child.kill("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.killNow();
        resolve();
      }, graceMs);
    });
    await Promise.race([this.exited, killed]);
    clearTimeout(timer);
    await this.exited;
  }

  killNow(): void {
    if (this.isRunning()) this.child.kill("SIGKILL");
  }
}

/** Spawns a process and waits until its output matches `ready`. */
export async function startProcess(
  options: StartProcessOptions,
): Promise<{ process: ManagedProcess; match: RegExpExecArray }> {
  const child = spawn(options.command, [...options.args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: options.env ?? process.env,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  const managed = new ManagedProcess(options.name, child);
  options.register(managed);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    let seen = "";
    const cleanups: (() => void)[] = [];
    const done = (f: () => void) => {
      for (const c of cleanups) c();
      f();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      const m = options.ready.exec(seen);
      if (m !== null) done(() => resolve(m));
      else if (seen.length > 1_000_000) seen = seen.slice(-OUTPUT_TAIL_CHARS);
    };
    const onExit = (code: number | null, sig: NodeJS.Signals | null) =>
      done(() =>
        reject(
          new Error(
            `${options.name} exited (${code ?? sig}) before it was ready:\n${managed.output()}`,
          ),
        ),
      );
    const onError = (e: Error) => done(() => reject(e));
    const timer = setTimeout(
      () =>
        done(() =>
          reject(
            new Error(
              `${options.name} not ready within ${timeoutMs} ms:\n${managed.output().slice(-4000)}`,
            ),
          ),
        ),
      timeoutMs,
    );
    const onAbort = () => done(() => reject(new BenchAbortedError()));
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", onExit);
    child.once("error", onError);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    cleanups.push(() => {
      clearTimeout(timer);
      child.stdout!.off("data", onData);
      child.stderr!.off("data", onData);
      child.off("exit", onExit);
      child.off("error", onError);
      options.signal?.removeEventListener("abort", onAbort);
    });
    if (options.signal?.aborted) onAbort();
  });
  return { process: managed, match };
}

/** The absolute path of an executable: `name` itself if it has a slash, else found on PATH. */
export function findExecutable(name: string): string | undefined {
  const candidates = name.includes("/")
    ? [name]
    : (process.env.PATH ?? "")
        .split(delimiter)
        .filter((d) => d !== "")
        .map((d) => join(d, name));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return isAbsolute(c) ? c : join(process.cwd(), c);
    } catch {
      // Not there or not executable: try the next one.
    }
  }
  return undefined;
}

/**
 * A TCP port that was free a moment ago on 127.0.0.1. For servers that cannot pick their own
 * (etcd's peer URLs must be known before the members start); callers retry on a clash.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Runs a command to completion and returns its stdout (for version strings). */
export function runCommand(
  command: string,
  args: readonly string[],
  cwd?: string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      [...args],
      { timeout: 10_000, ...(cwd === undefined ? {} : { cwd }) },
      (err, stdout, stderr) => {
        if (err) reject(err);
        else resolve(`${stdout}${stderr}`.trim());
      },
    );
  });
}
