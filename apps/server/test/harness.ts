import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createDistKVClient, type DistKVClient } from "@distkv/rpc";

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));

export interface NodeProcess {
  readonly id: string;
  readonly address: string;
  readonly dataDir: string;
  readonly args: readonly string[];
  proc: ChildProcess;
  output: string;
  exit: Promise<number | null>;
}

/**
 * Real distkv-server processes on loopback with ephemeral ports and temp data dirs. Every
 * process and directory it made is removed by cleanup(), which tests call in afterEach/afterAll.
 */
export class ClusterHarness {
  readonly nodes = new Map<string, NodeProcess>();
  private readonly clients: DistKVClient[] = [];
  private root: string | undefined;

  async tempRoot(): Promise<string> {
    this.root ??= await mkdtemp(join(tmpdir(), "distkv-test-"));
    return this.root;
  }

  /** Starts a node; `port` 0 lets the OS choose (the first start of a node). */
  async start(
    id: string,
    options: { port?: number; seeds?: string[]; extra?: string[]; dataDir?: string } = {},
  ): Promise<NodeProcess> {
    const dataDir = options.dataDir ?? join(await this.tempRoot(), id);
    const args = [
      `-node-id=${id}`,
      `-address=127.0.0.1:${options.port ?? 0}`,
      `-data-dir=${dataDir}`,
      ...(options.seeds !== undefined && options.seeds.length > 0
        ? [`-seed-nodes=${options.seeds.join(",")}`]
        : []),
      "-log-level=warn",
      ...(options.extra ?? []),
    ];
    const proc = spawn(process.execPath, [MAIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const address = await new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const m = /listening on (\S+)/.exec(output);
        if (m !== null) resolve(m[1]!);
      };
      proc.stdout!.on("data", onData);
      proc.stderr!.on("data", (c: Buffer) => {
        output += c.toString();
      });
      proc.once("exit", (code) =>
        reject(new Error(`node ${id} exited with ${code} before listening:\n${output}`)),
      );
    });
    const node: NodeProcess = {
      id,
      address,
      dataDir,
      args,
      proc,
      output,
      exit: new Promise((resolve) => {
        if (proc.exitCode !== null) resolve(proc.exitCode);
        else proc.once("exit", (code) => resolve(code));
      }),
    };
    proc.stdout!.on("data", (c: Buffer) => {
      node.output += c.toString();
    });
    proc.stderr!.on("data", (c: Buffer) => {
      node.output += c.toString();
    });
    this.nodes.set(id, node);
    return node;
  }

  /** Restarts a stopped node on its old port and data dir. */
  async restart(id: string, seeds: string[]): Promise<NodeProcess> {
    const old = this.nodes.get(id)!;
    const port = Number(old.address.split(":").pop());
    return this.start(id, { port, seeds, dataDir: old.dataDir });
  }

  async kill(id: string, signal: NodeJS.Signals = "SIGKILL"): Promise<number | null> {
    const node = this.nodes.get(id)!;
    node.proc.kill(signal);
    return node.exit;
  }

  client(id: string): DistKVClient {
    const c = createDistKVClient({ baseUrl: this.nodes.get(id)!.address });
    this.clients.push(c);
    return c;
  }

  async cleanup(): Promise<void> {
    await Promise.allSettled(this.clients.splice(0).map((c) => c.close()));
    for (const node of this.nodes.values()) {
      if (node.proc.exitCode === null && node.proc.signalCode === null) node.proc.kill("SIGKILL");
      await node.exit;
    }
    this.nodes.clear();
    if (this.root !== undefined) await rm(this.root, { recursive: true, force: true });
    this.root = undefined;
  }
}

/** Runs a CLI-like child process and collects its result. */
export function run(
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [MAIN, ...args], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    proc.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    proc.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Polls `check` until it returns true (or throws its last error after `timeoutMs`). */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 15_000,
  intervalMs = 100,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) {
      throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
