/**
 * How long one distkv-client command takes, end to end, against the in-memory test server on
 * loopback: (a) as a process (`node dist/main.js get k`: Node start-up, module loading, one
 * HTTP/2 connection, one unary call), (b) in-process through runCli (a fresh client per
 * command, as the executable does). Run after `pnpm build`: `pnpm bench`.
 */
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runCli } from "../src/run.js";
import { startTestServer } from "../test/support/kv-test-server.js";

const PROCESS_RUNS = Number(process.env.PROCESS_RUNS ?? 20);
const IN_PROCESS_RUNS = Number(process.env.IN_PROCESS_RUNS ?? 300);
const mainJs = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "main.js");

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function summary(label: string, samples: number[]): string {
  const s = [...samples].sort((a, b) => a - b);
  const f = (x: number) => x.toFixed(1);
  return `${label}: n=${s.length} p50=${f(percentile(s, 50))} ms p90=${f(percentile(s, 90))} ms max=${f(s[s.length - 1] ?? Number.NaN)} ms`;
}

function runProcess(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [mainJs, ...args], { stdio: "ignore" });
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(0) : reject(new Error(`exit ${code}`))));
  });
}

const server = await startTestServer();
const sink = { write: () => true };
try {
  await runCli(["--server", server.address, "put", "k", "v"], { stdout: sink, stderr: sink });

  const proc: number[] = [];
  for (let i = 0; i < PROCESS_RUNS; i++) {
    const t0 = performance.now();
    await runProcess(["--server", server.address, "get", "k"]);
    proc.push(performance.now() - t0);
  }
  const inproc: number[] = [];
  for (let i = 0; i < IN_PROCESS_RUNS; i++) {
    const t0 = performance.now();
    const code = await runCli(["--server", server.address, "get", "k"], {
      stdout: sink,
      stderr: sink,
    });
    if (code !== 0) throw new Error(`exit ${code}`);
    inproc.push(performance.now() - t0);
  }
  console.log(`node ${process.version}, ${(await import("node:os")).cpus().length} cores`);
  console.log(summary("process  (node dist/main.js get k)", proc));
  console.log(summary("in-process (runCli get k, new client each)", inproc));
} finally {
  await server.close();
}
