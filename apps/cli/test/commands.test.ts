/**
 * Every command through runCli (in-process) against a real Connect server on loopback, with
 * the real client: what it prints on stdout and stderr, its exit code, and what reached the
 * server.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { Consistency, NodeState } from "@distkv/rpc";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ExitCode } from "../src/errors.js";
import { type ClientFactory, defaultClientFactory } from "../src/io.js";
import { runCli } from "../src/run.js";
import { capture } from "./support/capture.js";
import { closedPort, startTestServer, type TestServer } from "./support/kv-test-server.js";

const NOW = 1_700_000_000_000;

let server: TestServer;
let tmp: string;
let created = 0;
let closed = 0;

// The real client, counted, to prove every run closes what it opened.
const countingFactory: ClientFactory = (o) => {
  const client = defaultClientFactory(o);
  created++;
  return {
    kv: client.kv,
    cluster: client.cluster,
    close: () => {
      closed++;
      client.close();
    },
  };
};

async function cli(args: string[], stdin?: Readable) {
  const stdout = capture();
  const stderr = capture();
  const code = await runCli(["--server", server.address, ...args], {
    stdout,
    stderr,
    createClient: countingFactory,
    now: () => NOW,
    version: "0.0.0-test",
    ...(stdin === undefined ? {} : { stdin }),
  });
  return { code, out: stdout.text(), outBytes: stdout.bytes(), err: stderr.text() };
}

beforeAll(async () => {
  server = await startTestServer({ maxValueBytes: 1024 });
  tmp = await mkdtemp(join(tmpdir(), "distkv-cli-"));
});

afterAll(async () => {
  await server.close();
  await rm(tmp, { recursive: true, force: true });
});

beforeEach(() => {
  server.requests.length = 0;
});

describe("put / get / delete", () => {
  it("stores a value and reads it back", async () => {
    expect(await cli(["put", "user:1", "Alice"])).toMatchObject({
      code: 0,
      out: "OK (2 replicas acked)\n",
      err: "",
    });
    expect(await cli(["get", "user:1"])).toMatchObject({ code: 0, out: "Alice\n", err: "" });
  });

  it("keeps UTF-8 keys and values intact", async () => {
    await cli(["put", "ключ 🔑", "значение\nwith newline"]);
    expect((await cli(["get", "ключ 🔑"])).out).toBe("значение\nwith newline\n");
  });

  it("a missing key: 'not found' on stderr, nothing on stdout, exit 1", async () => {
    expect(await cli(["get", "never-written"])).toEqual({
      code: ExitCode.NotFound,
      out: "",
      outBytes: Buffer.alloc(0),
      err: "not found: never-written\n",
    });
    const json = await cli(["--json", "get", "never-written"]);
    expect(json.code).toBe(ExitCode.NotFound);
    expect(JSON.parse(json.out)).toMatchObject({
      key: "never-written",
      found: false,
      siblings: [],
    });
  });

  it("delete makes the key not found", async () => {
    await cli(["put", "gone", "x"]);
    expect(await cli(["delete", "gone"])).toMatchObject({
      code: 0,
      out: "deleted (2 replicas acked)\n",
    });
    expect((await cli(["get", "gone"])).code).toBe(ExitCode.NotFound);
  });

  it("--json output of put, get and delete", async () => {
    const put = await cli(["put", "j", "v1", "--json"]);
    expect(put.code).toBe(0);
    const p = JSON.parse(put.out);
    expect(p).toMatchObject({ key: "j", replicasAcked: 2 });
    expect(typeof p.context).toBe("string");

    const get = JSON.parse((await cli(["get", "j", "-json"])).out);
    expect(get).toMatchObject({ key: "j", found: true, replicasAnswered: 2 });
    expect(get.siblings).toHaveLength(1);
    expect(get.siblings[0]).toMatchObject({ value: "v1", valueBase64: "djE=" });
    expect(typeof get.siblings[0].timestampMs).toBe("number");
    expect(get.context.length).toBeGreaterThan(0);

    const del = JSON.parse((await cli(["delete", "j", "--json"])).out);
    expect(del).toMatchObject({ key: "j", deleted: true, replicasAcked: 2 });
  });

  it("sends the consistency level and deadline with every request", async () => {
    await cli(["-consistency=all", "-timeout=1500ms", "put", "c", "v"]);
    await cli(["--consistency", "one", "--timeout", "3", "get", "c"]);
    await cli(["delete", "c"]);
    const [put, get, del] = server.requests;
    expect(put).toMatchObject({
      method: "put",
      key: "c",
      consistency: Consistency.ALL,
      optionTimeoutMs: 1500,
    });
    expect(get).toMatchObject({
      method: "get",
      consistency: Consistency.ONE,
      optionTimeoutMs: 3000,
    });
    expect(del).toMatchObject({
      method: "delete",
      consistency: Consistency.QUORUM,
      optionTimeoutMs: 5000,
    });
    // the deadline also travels in the Connect timeout header (remaining time, so at most)
    expect(put?.headerTimeoutMs).toBeGreaterThan(0);
    expect(put?.headerTimeoutMs).toBeLessThanOrEqual(1500);
  });
});

describe("siblings and contexts", () => {
  it("shows concurrent writes as numbered siblings, and a put with their context resolves them", async () => {
    // Two writers read the same (empty) state, then both write with that context.
    const ctx0 = JSON.parse((await cli(["get", "color", "--json"])).out).context as string;
    expect((await cli(["put", "color", "red", "--context", ctx0])).code).toBe(0);
    expect((await cli(["put", "color", "blue", "--context", ctx0])).code).toBe(0);

    const two = await cli(["get", "color"]);
    expect(two.code).toBe(0);
    const lines = two.out.split("\n");
    expect(lines[0]).toBe(
      "2 siblings (concurrent writes; resolve with put <key> <value> --context <context>)",
    );
    // the test server lists versions in write order
    expect(lines.slice(1, 3)).toEqual(["[1] red", "[2] blue"]);
    const context = /^context: (\S+)$/.exec(lines[3] ?? "")?.[1];
    expect(context).toBeDefined();

    const json = JSON.parse((await cli(["get", "color", "--json"])).out);
    expect(json.siblings.map((s: { value: string }) => s.value).sort()).toEqual(["blue", "red"]);
    expect(json.context).toBe(context);

    // Resolve: write the merged value with the context the get printed.
    expect((await cli(["put", "color", "purple", "--context", context!])).code).toBe(0);
    expect(await cli(["get", "color"])).toMatchObject({ code: 0, out: "purple\n" });
  });

  it("--show-context prints the context after the value; a stale context makes a sibling", async () => {
    await cli(["put", "doc", "v1"]);
    const first = await cli(["get", "doc", "--show-context"]);
    const [value, ctxLine] = first.out.split("\n");
    expect(value).toBe("v1");
    const ctx = ctxLine?.replace(/^context: /, "") ?? "";
    expect(ctx).toMatch(/^[A-Za-z0-9+/]+=*$/);
    // Someone else overwrites; our write with the old context does not supersede theirs.
    await cli(["put", "doc", "v2"]);
    await cli(["put", "doc", "mine", "--context", ctx]);
    const out = (await cli(["get", "doc"])).out;
    expect(out).toMatch(/^2 siblings/);
    expect(out).toContain("] v2\n");
    expect(out).toContain("] mine\n");
  });

  it("delete with a context removes exactly the versions it covers", async () => {
    await cli(["put", "del-ctx", "a"]);
    const ctx = JSON.parse((await cli(["get", "del-ctx", "--json"])).out).context;
    await cli(["delete", "del-ctx", "--context", ctx]);
    expect((await cli(["get", "del-ctx"])).code).toBe(ExitCode.NotFound);
  });

  it("put --show-context prints the new version's context", async () => {
    const r = await cli(["put", "sc", "v", "--show-context"]);
    expect(r.out).toMatch(/^OK \(2 replicas acked\)\ncontext: \S+\n$/);
  });

  it("rejects a malformed --context before calling the server", async () => {
    const r = await cli(["put", "k", "v", "--context", "not base64!"]);
    expect(r.code).toBe(ExitCode.Usage);
    expect(r.err).toContain('invalid --context "not base64!"');
    expect(server.requests).toHaveLength(0);
  });
});

describe("binary values", () => {
  const bytes = Buffer.from([0x00, 0xff, 0x10, 0x0a, 0xfe]);

  it('"-" reads the value from stdin; get writes the bytes back unchanged', async () => {
    expect((await cli(["put", "bin", "-"], Readable.from([bytes]))).code).toBe(0);
    const r = await cli(["get", "bin"]);
    expect([...r.outBytes]).toEqual([...bytes, 0x0a]);
    const json = JSON.parse((await cli(["get", "bin", "--json"])).out);
    expect(json.siblings[0].value).toBeUndefined();
    expect(Buffer.from(json.siblings[0].valueBase64, "base64")).toEqual(bytes);
  });

  it("--value-file reads the value from a file", async () => {
    const file = join(tmp, "value.bin");
    await writeFile(file, bytes);
    expect((await cli(["put", "binfile", "--value-file", file])).code).toBe(0);
    expect([...(await cli(["get", "binfile"])).outBytes]).toEqual([...bytes, 0x0a]);
  });

  it("a missing --value-file is a usage error", async () => {
    const r = await cli(["put", "k", "--value-file", join(tmp, "nope")]);
    expect(r.code).toBe(ExitCode.Usage);
    expect(r.err).toContain("cannot read --value-file");
    expect(r.err).toContain("ENOENT");
  });
});

describe("batch", () => {
  it("stores every pair and reports each", async () => {
    const r = await cli(["batch", "b1", "one", "b2", "two", "b3", "three"]);
    expect(r).toMatchObject({
      code: 0,
      out: "[1] put b1  ok\n[2] put b2  ok\n[3] put b3  ok\n3 of 3 operations succeeded\n",
      err: "",
    });
    expect((await cli(["get", "b2"])).out).toBe("two\n");
  });

  it("reports per-operation failures and exits 5", async () => {
    const r = await cli(["batch", "ok1", "v", "unavailable:x", "v", "big", "x".repeat(2000)]);
    expect(r.code).toBe(ExitCode.PartialFailure);
    expect(r.out).toBe(
      "[1] put ok1            ok\n" +
        "[2] put unavailable:x  FAILED unavailable: not enough replicas: 1 of 2 required answered\n" +
        "[3] put big            FAILED invalid_argument: value is 2000 bytes, over the limit of 1024 bytes\n" +
        "2 of 3 operations failed\n",
    );
    expect((await cli(["get", "ok1"])).out).toBe("v\n");
    const json = JSON.parse((await cli(["batch", "ok2", "v", "unavailable:y", "v", "--json"])).out);
    expect(json).toMatchObject({
      succeeded: 1,
      failed: 1,
      results: [
        { key: "ok2", ok: true },
        { key: "unavailable:y", ok: false, errorCode: "unavailable" },
      ],
    });
  });

  it("sends one Batch request with the options", async () => {
    await cli(["-consistency=one", "batch", "x", "1", "y", "2"]);
    expect(server.requests).toEqual([
      expect.objectContaining({
        method: "batch",
        consistency: Consistency.ONE,
        optionTimeoutMs: 5000,
      }),
    ]);
  });
});

describe("status", () => {
  beforeAll(() => {
    server.status = {
      nodeId: "node-1",
      totalNodes: 3,
      aliveNodes: 2,
      deadNodes: 1,
      availabilityPercent: 66.67,
      replicas: 3,
      readQuorum: 2,
      writeQuorum: 2,
      virtualNodes: 150,
      nodes: [
        {
          id: "node-1",
          address: "127.0.0.1:7001",
          state: NodeState.ALIVE,
          lastSeenMs: BigInt(NOW - 500),
        },
        {
          id: "node-2",
          address: "127.0.0.1:7002",
          state: NodeState.ALIVE,
          lastSeenMs: BigInt(NOW - 2000),
        },
        {
          id: "node-3",
          address: "127.0.0.1:7003",
          state: NodeState.DEAD,
          lastSeenMs: BigInt(NOW - 95_000),
        },
      ],
      metrics: {
        requestsTotal: 1520n,
        requestsFailed: 3n,
        latencyAvgMs: 0.84,
        latencyP50Ms: 0.61,
        latencyP99Ms: 3.2,
        uptimeSeconds: 3723n,
        hintsPending: 12n,
        storageBytes: 1_258_291n,
      },
    };
  });

  it("prints cluster health, nodes and metrics", async () => {
    const r = await cli(["status"]);
    expect(r.code).toBe(0);
    expect(r.err).toBe("");
    for (const line of [
      "Cluster status (as seen by node-1)",
      "  Total nodes:   3",
      "  Alive:         2",
      "  Dead:          1",
      "  Availability:  66.7%",
      "  node-1  127.0.0.1:7001  alive  0s ago",
      "  node-2  127.0.0.1:7002  alive  2s ago",
      "  node-3  127.0.0.1:7003  dead   1m ago",
      "  Total requests:   1520",
      "  Failed requests:  3",
      "  Average latency:  0.84 ms",
      "  p99 latency:      3.20 ms",
      "  Uptime:           1h 2m 3s",
      "  Hints pending:    12",
    ]) {
      expect(r.out.split("\n")).toContain(line);
    }
  });

  it("--json prints the raw StatusResponse", async () => {
    const r = await cli(["status", "--json"]);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(json).toMatchObject({
      nodeId: "node-1",
      totalNodes: 3,
      aliveNodes: 2,
      deadNodes: 1,
      availabilityPercent: 66.67,
      nodes: [
        { id: "node-1", state: "NODE_STATE_ALIVE", lastSeenMs: String(NOW - 500) },
        { id: "node-2" },
        { id: "node-3", state: "NODE_STATE_DEAD" },
      ],
      metrics: { requestsTotal: "1520", hintsPending: "12", latencyP99Ms: 3.2 },
    });
    // zero fields are present too, for scripts
    expect(json.nodes[0].incarnation).toBe("0");
  });
});

describe("errors", () => {
  it("a value over the server's limit: the server's INVALID_ARGUMENT message, exit 4", async () => {
    const r = await cli(["put", "big", "x".repeat(1025)]);
    expect(r).toMatchObject({
      code: ExitCode.Rejected,
      out: "",
      err: "distkv-client: invalid request: value is 1025 bytes, over the limit of 1024 bytes\n",
    });
    expect((await cli(["get", "big"])).code).toBe(ExitCode.NotFound);
  });

  it("the server is unavailable: exit 3", async () => {
    const r = await cli(["get", "unavailable:k"]);
    expect(r.code).toBe(ExitCode.Unavailable);
    expect(r.err).toBe(
      `distkv-client: DistKV at http://${server.address} is unavailable: not enough replicas: 1 of 2 required answered\n`,
    );
  });

  it("no answer within --timeout: deadline exceeded, exit 3", async () => {
    const r = await cli(["--timeout", "200ms", "get", "slow:k"]);
    expect(r.code).toBe(ExitCode.Unavailable);
    expect(r.err).toMatch(
      new RegExp(
        `^distkv-client: no answer from DistKV at http://${server.address} within 200ms \\(deadline exceeded\\)`,
      ),
    );
  });

  it("nothing listening: names the address tried, exit 3", async () => {
    const port = await closedPort();
    const stdout = capture();
    const stderr = capture();
    const code = await runCli(["-server", `127.0.0.1:${port}`, "get", "k"], {
      stdout,
      stderr,
      createClient: countingFactory,
    });
    expect(code).toBe(ExitCode.Unavailable);
    expect(stdout.text()).toBe("");
    expect(stderr.text()).toBe(
      `distkv-client: cannot reach DistKV at http://127.0.0.1:${port}: connection refused\n`,
    );
  });

  it("usage errors never reach the server: exit 2 and a pointer to --help", async () => {
    for (const args of [
      ["batch", "a", "1", "b"],
      ["get"],
      ["--consistency", "most", "get", "k"],
      ["--timeout", "soon", "get", "k"],
      ["-server=:::", "get", "k"],
      ["frob"],
    ]) {
      const r = await cli(args);
      expect(r.code, args.join(" ")).toBe(ExitCode.Usage);
      expect(r.out).toBe("");
      expect(r.err).toMatch(/^distkv-client: .+\nRun 'distkv-client( \w+)? --help' for usage\.\n$/);
    }
    expect(server.requests).toHaveLength(0);
  });

  it("--help goes to stdout with exit 0", async () => {
    const r = await cli(["put", "--help"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^distkv-client put <key> <value>/);
    expect(r.err).toBe("");
  });
});

describe("resources", () => {
  it("every client the commands created was closed", () => {
    expect(created).toBeGreaterThan(20);
    expect(closed).toBe(created);
  });
});
