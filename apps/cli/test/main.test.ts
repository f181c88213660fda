/**
 * The compiled executable as a user runs it: `node dist/main.js ...` and the repository-root
 * launcher `build/distkv-client`, as child processes against a real server on loopback.
 * Checks stdout, stderr and exit codes, and that no stack trace ever reaches the user.
 */
import { spawn } from "node:child_process";
import { access, constants } from "node:fs/promises";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closedPort, startTestServer, type TestServer } from "./support/kv-test-server.js";

const appDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const mainJs = join(appDir, "dist", "main.js");
const launcher = join(appDir, "..", "..", "build", "distkv-client");

interface Result {
  code: number | null;
  stdout: Buffer;
  out: string;
  err: string;
}

// Asynchronous on purpose: the server runs in this process and must keep answering.
function exec(file: string, args: string[], input?: Buffer, cwd?: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const isJs = file.endsWith(".js");
    const child = spawn(isJs ? process.execPath : file, isJs ? [file, ...args] : args, {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
      ...(cwd === undefined ? {} : { cwd }),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.on("error", reject);
    child.on("close", (code) => {
      const stdout = Buffer.concat(out);
      resolve({
        code,
        stdout,
        out: stdout.toString("utf8"),
        err: Buffer.concat(err).toString("utf8"),
      });
    });
    child.stdin.end(input);
  });
}

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ maxValueBytes: 1024 });
});

afterAll(async () => {
  await server.close();
});

const noStackTrace = (r: Result) => {
  expect(r.err).not.toMatch(/\n\s+at /);
  expect(r.err).not.toContain("node:internal");
};

describe("node dist/main.js", () => {
  it("put then get, with single-dash options as the original documents", async () => {
    const put = await exec(mainJs, [
      `-server=${server.address}`,
      "-consistency=all",
      "put",
      "user:1",
      "John Doe",
    ]);
    expect(put).toMatchObject({ code: 0, out: "OK (2 replicas acked)\n", err: "" });
    const get = await exec(mainJs, ["--server", server.address, "-timeout=2s", "get", "user:1"]);
    expect(get).toMatchObject({ code: 0, out: "John Doe\n", err: "" });
  });

  it("a missing key: not found on stderr, exit 1", async () => {
    const r = await exec(mainJs, [`-server=${server.address}`, "get", "missing"]);
    expect(r).toMatchObject({ code: 1, out: "", err: "not found: missing\n" });
  });

  it("binary value through stdin", async () => {
    const bytes = Buffer.from([0, 1, 2, 255, 10, 13]);
    expect((await exec(mainJs, [`-server=${server.address}`, "put", "bin", "-"], bytes)).code).toBe(
      0,
    );
    const r = await exec(mainJs, [`-server=${server.address}`, "get", "bin"]);
    expect(r.code).toBe(0);
    expect([...r.stdout]).toEqual([...bytes, 10]);
  });

  it("unreachable server: names the address, exit 3, no stack trace", async () => {
    const port = await closedPort();
    const r = await exec(mainJs, [`-server=127.0.0.1:${port}`, "get", "k"]);
    expect(r.code).toBe(3);
    expect(r.out).toBe("");
    expect(r.err).toBe(
      `distkv-client: cannot reach DistKV at http://127.0.0.1:${port}: connection refused\n`,
    );
    noStackTrace(r);
  });

  it("an HTTP/1-only server on the port: a clear message, exit 3, no crash", async () => {
    const h1 = http.createServer((_req, res) => res.end("hello"));
    await new Promise<void>((resolve) => h1.listen(0, "127.0.0.1", resolve));
    const port = (h1.address() as AddressInfo).port;
    try {
      const r = await exec(mainJs, [`-server=127.0.0.1:${port}`, "get", "k"]);
      expect(r.code).toBe(3);
      expect(r.out).toBe("");
      expect(r.err).toBe(
        `distkv-client: cannot reach DistKV at http://127.0.0.1:${port}: HTTP/2 protocol error (is a DistKV node listening there? the CLI speaks Connect over cleartext HTTP/2)\n`,
      );
      noStackTrace(r);
    } finally {
      h1.closeAllConnections();
      await new Promise<void>((resolve) => h1.close(() => resolve()));
    }
  });

  it("value over the limit: the server's message, exit 4", async () => {
    const r = await exec(mainJs, [`-server=${server.address}`, "put", "big", "x".repeat(1500)]);
    expect(r).toMatchObject({
      code: 4,
      out: "",
      err: "distkv-client: invalid request: value is 1500 bytes, over the limit of 1024 bytes\n",
    });
  });

  it("deadline exceeded: exit 3", async () => {
    const r = await exec(mainJs, [`-server=${server.address}`, "-timeout=300ms", "get", "slow:x"]);
    expect(r.code).toBe(3);
    expect(r.err).toContain("within 300ms (deadline exceeded)");
    noStackTrace(r);
  });

  it.each([
    [["put", "k"], "missing <value>"],
    [["batch", "a", "1", "b"], "batch takes key/value pairs"],
    [["-consistency=most", "get", "k"], 'unknown consistency level "most"'],
    [["-timeout=soon", "get", "k"], 'invalid --timeout "soon"'],
    [["get"], "missing arguments: usage: distkv-client get <key>"],
    [["frob"], 'unknown command "frob"'],
    [["get", "k", "--frob"], "unexpected option --frob"],
    [["-frob", "get", "k"], "unknown option -frob"],
    [[], "no command given"],
  ])("usage error %j: exit 2", async (args, message) => {
    const r = await exec(mainJs, [`-server=${server.address}`, ...args]);
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toContain(`distkv-client: ${message}`);
    expect(r.err).toMatch(/Run 'distkv-client( \w+)? --help' for usage\.\n$/);
    noStackTrace(r);
  });

  it("--help and --version on stdout, exit 0", async () => {
    const help = await exec(mainJs, ["--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toContain("distkv-client [options] <command>");
    expect(help.err).toBe("");
    const version = await exec(mainJs, ["-version"]);
    expect(version).toMatchObject({ code: 0, out: "0.1.0\n", err: "" });
  });
});

describe("build/distkv-client (the repository-root launcher)", () => {
  it("is executable and runs the compiled CLI from any working directory", async () => {
    await access(launcher, constants.X_OK);
    const put = await exec(
      launcher,
      [`-server=${server.address}`, "put", "launched", "yes"],
      undefined,
      tmpdir(),
    );
    expect(put).toMatchObject({ code: 0, err: "" });
    const get = await exec(launcher, [
      `-server=${server.address}`,
      "-consistency=all",
      "get",
      "launched",
    ]);
    expect(get).toMatchObject({ code: 0, out: "yes\n" });
    const status = await exec(launcher, [`-server=${server.address}`, "status", "--json"]);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.out)).toHaveProperty("totalNodes");
  });
});
