// One port, every protocol: HTTP/1.1 and h2c on the same listening socket.
import * as http from "node:http";
import * as net from "node:net";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-node";
import { describe, expect, it } from "vitest";
import { defer, eventually, gate, sleep, startServer } from "../test/harness.js";
import { createMemoryKv, kvRoutes } from "../test/kv-fixture.js";
import { createDistKVClient } from "./client.js";
import { isInvalidArgumentError } from "./errors.js";
import { KVService } from "./gen/distkv/v1/kv_pb.js";
import { resolveDistKVServerOptions } from "./server.js";

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A Connect-protocol JSON call over plain HTTP/1.1, as curl would make it. */
function postJson(
  port: number,
  path: string,
  body: string,
  headers: http.OutgoingHttpHeaders = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path,
        agent: false,
        headers: { "content-type": "application/json", ...headers },
      },
      (res) => {
        let data = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (data += c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const b64 = (s: string): string => Buffer.from(s).toString("base64");

describe("createDistKVServer", () => {
  it("serves Connect JSON over HTTP/1.1 and gRPC over h2c on the same port", async () => {
    const kv = createMemoryKv();
    const server = await startServer(kvRoutes(kv));

    const put = await postJson(
      server.port,
      "/distkv.v1.KVService/Put",
      JSON.stringify({ key: b64("k1"), value: b64("v1") }),
    );
    expect(put.status).toBe(200);
    expect(JSON.parse(put.body)).toMatchObject({ replicasAcked: 1 });

    const grpc = createDistKVClient({ baseUrl: server.url, protocol: "grpc" });
    defer(() => grpc.close());
    const got = await grpc.kv.get({ key: Buffer.from("k1") });
    expect(got.found).toBe(true);
    expect(Buffer.from(got.siblings[0]!.value).toString()).toBe("v1");

    await grpc.kv.put({ key: Buffer.from("k2"), value: Buffer.from("v2") });
    const get = await postJson(
      server.port,
      "/distkv.v1.KVService/Get",
      JSON.stringify({ key: b64("k2") }),
    );
    expect(get.status).toBe(200);
    expect(JSON.parse(get.body)).toMatchObject({ found: true, siblings: [{ value: b64("v2") }] });
  });

  it("also serves gRPC-Web (binary, HTTP/1.1) and Connect JSON over h2c", async () => {
    const kv = createMemoryKv();
    const server = await startServer(kvRoutes(kv));
    const agent = new http.Agent({ keepAlive: false });
    defer(() => agent.destroy());
    const web = createClient(
      KVService,
      createGrpcWebTransport({ baseUrl: server.url, httpVersion: "1.1", nodeOptions: { agent } }),
    );
    await web.put({ key: Buffer.from("w"), value: Buffer.from("web") });
    const json = createDistKVClient({
      baseUrl: server.url,
      protocol: "connect",
      httpVersion: "2",
      useJson: true,
    });
    defer(() => json.close());
    const got = await json.kv.get({ key: Buffer.from("w") });
    expect(Buffer.from(got.siblings[0]!.value).toString()).toBe("web");
  });

  it("reports errors in the Connect JSON format over HTTP/1.1", async () => {
    const server = await startServer(kvRoutes(createMemoryKv()));
    const res = await postJson(
      server.port,
      "/distkv.v1.KVService/Get",
      JSON.stringify({ key: "" }),
    );
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ code: "invalid_argument" });
  });

  it("refuses an oversized request from its Content-Length, before the body arrives", async () => {
    let called = false;
    const server = await startServer(
      (r) =>
        r.service(KVService, {
          put: () => {
            called = true;
            return {};
          },
        }),
      { readMaxBytes: 1024 },
    );
    // Announce 100 MB, send 10 bytes, never finish: an answer proves nothing was buffered.
    const res = await new Promise<RawResponse>((resolve, reject) => {
      const req = http.request(
        {
          host: "127.0.0.1",
          port: server.port,
          method: "POST",
          path: "/distkv.v1.KVService/Put",
          agent: false,
          headers: { "content-type": "application/json", "content-length": String(100_000_000) },
        },
        (r) => {
          let data = "";
          r.on("data", (c: Buffer) => (data += c.toString()));
          r.on("end", () => {
            req.destroy();
            resolve({ status: r.statusCode ?? 0, headers: r.headers, body: data });
          });
        },
      );
      req.on("error", reject);
      req.write('{"key":""');
    });
    expect(JSON.parse(res.body)).toMatchObject({ code: "resource_exhausted" });
    expect(called).toBe(false);

    // The same limit holds for gRPC messages on h2c.
    const grpc = createDistKVClient({ baseUrl: server.url, protocol: "grpc" });
    defer(() => grpc.close());
    const err = await grpc.kv
      .put({ key: Buffer.from("k"), value: new Uint8Array(4096) })
      .catch((e: unknown) => e);
    expect(ConnectError.from(err).code).toBe(Code.ResourceExhausted);
    expect(called).toBe(false);
  });

  it("stops gracefully: calls in flight finish, then the port is closed", async () => {
    const started = gate();
    const server = await startServer((r) =>
      r.service(KVService, {
        get: async () => {
          started.open();
          await sleep(150);
          return { found: true };
        },
      }),
    );
    const inFlight = postJson(
      server.port,
      "/distkv.v1.KVService/Get",
      JSON.stringify({ key: b64("k") }),
    );
    await started.promise;
    const stopped = server.stop({ gracePeriodMs: 5000 });
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ found: true });
    await stopped;
    expect(server.connections).toBe(0);
    await expect(postJson(server.port, "/distkv.v1.KVService/Get", "{}")).rejects.toThrow(
      /ECONNREFUSED/,
    );
  });

  it("destroys what is still running when the grace period ends", async () => {
    let handlerSignal: AbortSignal | undefined;
    const server = await startServer((r) =>
      r.service(KVService, {
        get: (_req, ctx) => {
          handlerSignal = ctx.signal;
          return new Promise(() => {});
        },
      }),
    );
    const grpc = createDistKVClient({
      baseUrl: server.url,
      protocol: "grpc",
      defaultTimeoutMs: 30_000,
    });
    defer(() => grpc.close());
    const call = grpc.kv.get({ key: Buffer.from("k") }).catch((e: unknown) => e);
    while (handlerSignal === undefined) await sleep(5);
    const t0 = performance.now();
    await server.stop({ gracePeriodMs: 100 });
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(handlerSignal.aborted).toBe(true);
    expect(await call).toBeInstanceOf(ConnectError);
  });

  it("closes a connection that sends nothing within sniffTimeoutMs", async () => {
    const server = await startServer(kvRoutes(createMemoryKv()), { sniffTimeoutMs: 100 });
    const socket = net.connect(server.port, "127.0.0.1");
    defer(() => socket.destroy());
    await new Promise<void>((resolve) => socket.on("close", () => resolve()));
    await eventually(() => server.connections === 0);
  });

  it("validates its options", () => {
    const routes = (): void => {};
    expect(() => resolveDistKVServerOptions({ routes, port: 70000 })).toThrow(/port/);
    expect(() => resolveDistKVServerOptions({ routes, readMaxBytes: 0 })).toThrow(/readMaxBytes/);
    let err: unknown;
    try {
      resolveDistKVServerOptions({ routes, headersTimeoutMs: 10, requestTimeoutMs: 5 });
    } catch (e) {
      err = e;
    }
    expect(isInvalidArgumentError(err)).toBe(true);
    expect(resolveDistKVServerOptions({ routes })).toMatchObject({
      host: "127.0.0.1",
      port: 0,
      readMaxBytes: 8 << 20,
    });
  });
});
