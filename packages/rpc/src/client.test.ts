// The unary client factory against a real server, over each protocol it offers.
import { Code, ConnectError } from "@connectrpc/connect";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { defer, startServer } from "../test/harness.js";
import { createMemoryKv, kvRoutes } from "../test/kv-fixture.js";
import { createDistKVClient, type DistKVClientOptions, normalizeBaseUrl } from "./client.js";
import { ClusterService } from "./gen/distkv/v1/kv_pb.js";

describe("normalizeBaseUrl", () => {
  it.each([
    ["localhost:8080", "http://localhost:8080"],
    ["  127.0.0.1:1  ", "http://127.0.0.1:1"],
    ["http://h:1/", "http://h:1"],
    ["https://h:443//", "https://h:443"],
    ["HTTP://H:1", "HTTP://H:1"],
    ["[::1]:8080", "http://[::1]:8080"],
  ])("%s -> %s", (input, expected) => {
    expect(normalizeBaseUrl(input)).toBe(expected);
  });

  it.each(["", "   ", "ftp://h:1", "unix://x"])("rejects %j", (input) => {
    expect(() => normalizeBaseUrl(input)).toThrow(TypeError);
  });

  it("is idempotent and always yields an http(s) URL without trailing slash", () => {
    fc.assert(
      fc.property(
        fc.domain(),
        fc.integer({ min: 1, max: 65535 }),
        fc.boolean(),
        (host, port, withScheme) => {
          const out = normalizeBaseUrl(`${withScheme ? "http://" : ""}${host}:${port}`);
          expect(normalizeBaseUrl(out)).toBe(out);
          expect(out.endsWith("/")).toBe(false);
          expect(new URL(out).protocol).toBe("http:");
        },
      ),
    );
  });
});

describe("createDistKVClient", () => {
  const variants: [string, Partial<DistKVClientOptions>][] = [
    ["Connect binary over HTTP/2", { protocol: "connect", httpVersion: "2" }],
    ["Connect JSON over HTTP/2", { protocol: "connect", httpVersion: "2", useJson: true }],
    ["Connect binary over HTTP/1.1", { protocol: "connect", httpVersion: "1.1" }],
    ["Connect JSON over HTTP/1.1", { protocol: "connect", httpVersion: "1.1", useJson: true }],
    ["gRPC", { protocol: "grpc" }],
  ];

  it.each(variants)("round-trips put/get/delete with %s", async (_name, options) => {
    const kv = createMemoryKv();
    const server = await startServer(kvRoutes(kv));
    const c = createDistKVClient({ ...options, baseUrl: `127.0.0.1:${server.port}` });
    defer(() => c.close());
    const value = new Uint8Array([0, 1, 2, 255]);
    await c.kv.put({ key: Buffer.from("k"), value });
    expect(kv.data.size).toBe(1);
    const got = await c.kv.get({ key: Buffer.from("k") });
    expect(got.found).toBe(true);
    expect(got.siblings[0]?.value).toEqual(value);
    await c.kv.delete({ key: Buffer.from("k") });
    expect((await c.kv.get({ key: Buffer.from("k") })).found).toBe(false);
    // Errors keep their code across every protocol.
    const err = await c.kv.get({ key: new Uint8Array() }).catch((e: unknown) => e);
    expect(ConnectError.from(err).code).toBe(Code.InvalidArgument);
  });

  it("sends the default deadline, and a method without implementation is UNIMPLEMENTED", async () => {
    let seenTimeout: number | undefined;
    const server = await startServer((r) =>
      r.service(ClusterService, {
        status: (_req, ctx) => {
          seenTimeout = ctx.timeoutMs();
          return { nodeId: "n1" };
        },
      }),
    );
    const c = createDistKVClient({ baseUrl: server.url, defaultTimeoutMs: 1234 });
    defer(() => c.close());
    expect((await c.cluster.status({})).nodeId).toBe("n1");
    expect(seenTimeout).toBeGreaterThan(1000);
    expect(seenTimeout).toBeLessThanOrEqual(1234);
    const err = await c.kv.get({ key: Buffer.from("k") }).catch((e: unknown) => e);
    expect(ConnectError.from(err).code).toBe(Code.Unimplemented);
  });
});
