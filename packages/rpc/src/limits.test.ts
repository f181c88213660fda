// The server's limits against a real server on a loopback port: message sizes and in-flight
// budgets per traffic class and per connection, connection caps, slow clients, and the mux
// stream's back-pressure. Handlers block on gates so the tests control what is in flight.
import * as http2 from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { defer, eventually, gate, sleep, startServer } from "../test/harness.js";
import {
  closed,
  envelope,
  h2Request,
  h2Session,
  lengthField,
  rawSocket,
  statusOf,
} from "../test/raw.js";
import { createDistKVClient, type DistKVClient } from "./client.js";
import { isInvalidArgumentError, isRemoteError } from "./errors.js";
import { KVService } from "./gen/distkv/v1/kv_pb.js";
import { createPeerClient } from "./peer-client.js";
import { registerPeerService } from "./peer-service.js";
import { createPipelineHandler } from "./pipeline-service.js";
import { createPipelinedClient } from "./pipelined-client.js";
import { resolveDistKVServerOptions } from "./server.js";

const KiB = 1024;
const MiB = 1024 * KiB;

function grpcClient(url: string): DistKVClient {
  const c = createDistKVClient({ baseUrl: url, protocol: "grpc", defaultTimeoutMs: 20_000 });
  defer(() => c.close());
  return c;
}

function peerClient(url: string) {
  const p = createPeerClient({ baseUrl: url, nodeId: "peer-test", defaultTimeoutMs: 20_000 });
  defer(() => p.abort());
  return p;
}

async function codeOfCall(p: Promise<unknown>): Promise<{ code: Code | 0; message: string }> {
  try {
    await p;
    return { code: 0, message: "" };
  } catch (e) {
    const ce = ConnectError.from(e);
    return { code: ce.code, message: ce.rawMessage };
  }
}

/** Put handlers that wait for `release`; `running` counts those waiting. */
function gatedPut() {
  const g = gate();
  const state = { running: 0, started: 0 };
  const put = async () => {
    state.running++;
    state.started++;
    await g.promise;
    state.running--;
    return { replicasAcked: 1 };
  };
  return { state, put, release: () => g.open() };
}

describe("server limits", () => {
  it("gives peer traffic its own, larger message size limit", async () => {
    const server = await startServer(
      (r) => {
        r.service(KVService, { put: () => ({}) });
        registerPeerService(r, { replicaWrite: () => ({}) });
      },
      {
        readMaxBytes: 1 * KiB,
        maxConnectionInFlightBytes: 64 * KiB,
        maxInFlightBytes: 1 * MiB,
        peer: { readMaxBytes: 256 * KiB },
      },
    );
    const client = grpcClient(server.url);
    const refused = await codeOfCall(
      client.kv.put({ key: Buffer.from("k"), value: new Uint8Array(4 * KiB) }),
    );
    expect(refused.code).toBe(Code.ResourceExhausted);
    expect(refused.message).toMatch(/readMaxBytes 1024/);
    const peer = peerClient(server.url);
    await peer.replicaWrite({ key: Buffer.from("k"), siblings: new Uint8Array(100 * KiB) });
  });

  it("refuses unary calls past the client in-flight budget, while peer calls go on", async () => {
    const g = gatedPut();
    const peerWrites: number[] = [];
    const server = await startServer(
      (r) => {
        r.service(KVService, { put: g.put });
        registerPeerService(r, {
          replicaWrite: (req) => {
            peerWrites.push(req.siblings.length);
            return {};
          },
        });
      },
      {
        readMaxBytes: 64 * KiB,
        maxConnectionInFlightBytes: 256 * KiB,
        maxInFlightBytes: 256 * KiB,
      },
    );
    const a = grpcClient(server.url);
    const value = new Uint8Array(50 * KiB);
    // Each holds ~2x its 50 KiB while it runs (Connect's buffer and the chunks it came in).
    const held = [1, 2].map(() => a.kv.put({ key: Buffer.from("k"), value }));
    await eventually(() => g.state.running === 2);
    const b = grpcClient(server.url);
    const refused = await codeOfCall(b.kv.put({ key: Buffer.from("k"), value }));
    expect(refused.code).toBe(Code.ResourceExhausted);
    expect(refused.message).toMatch(
      /server's limit for client traffic .* bytes in use.*retry later/,
    );
    expect(g.state.started).toBe(2);
    const usage = server.usage();
    expect(usage.inFlightBytes.client).toBeGreaterThan(200 * KiB);
    expect(usage.inFlightBytes.client).toBeLessThanOrEqual(256 * KiB);
    expect(usage.refusedRequests).toBe(1);

    // Peer traffic has its own budget.
    const peer = peerClient(server.url);
    await peer.replicaWrite({ key: Buffer.from("k"), siblings: new Uint8Array(60 * KiB) });
    expect(peerWrites).toEqual([60 * KiB]);

    g.release();
    await Promise.all(held);
    await eventually(() => server.usage().inFlightBytes.client === 0);
    await b.kv.put({ key: Buffer.from("k"), value });
  });

  it("limits the bytes one connection may hold, leaving room for the others", async () => {
    const g = gatedPut();
    const server = await startServer((r) => r.service(KVService, { put: g.put }), {
      readMaxBytes: 64 * KiB,
      maxConnectionInFlightBytes: 128 * KiB,
      maxInFlightBytes: 1 * MiB,
    });
    const a = grpcClient(server.url);
    const value = new Uint8Array(50 * KiB);
    const first = a.kv.put({ key: Buffer.from("k"), value });
    await eventually(() => g.state.running === 1);
    const second = await codeOfCall(a.kv.put({ key: Buffer.from("k"), value }));
    expect(second.code).toBe(Code.ResourceExhausted);
    expect(second.message).toMatch(/limit per connection/);
    const other = grpcClient(server.url).kv.put({ key: Buffer.from("k"), value });
    await eventually(() => g.state.running === 2);
    g.release();
    await Promise.all([first, other]);
  });

  it("charges a message's decoded size, not just its wire size", async () => {
    let batches = 0;
    const server = await startServer(
      (r) =>
        r.service(KVService, {
          batch: () => {
            batches++;
            return {};
          },
        }),
      { readMaxBytes: 64 * KiB, maxConnectionInFlightBytes: 1 * MiB, maxInFlightBytes: 1 * MiB },
    );
    const client = grpcClient(server.url);
    // 20,000 empty operations: 40 KB on the wire, ~2.7 MB once decoded.
    const huge = await codeOfCall(
      client.kv.batch({ operations: Array.from({ length: 20_000 }, () => ({})) }),
    );
    expect(huge.code).toBe(Code.ResourceExhausted);
    expect(batches).toBe(0);
    await client.kv.batch({ operations: Array.from({ length: 100 }, () => ({})) });
    expect(batches).toBe(1);
    await eventually(() => server.usage().inFlightBytes.client === 0);
  });

  it("caps client connections without touching peer connections", async () => {
    const server = await startServer(
      (r) => {
        r.service(KVService, { put: () => ({}) });
        registerPeerService(r, {});
      },
      { maxConnections: 2 },
    );
    const one = grpcClient(server.url);
    const two = grpcClient(server.url);
    await one.kv.put({ key: Buffer.from("1") });
    await two.kv.put({ key: Buffer.from("2") });
    const third = await codeOfCall(grpcClient(server.url).kv.put({ key: Buffer.from("3") }));
    expect(third.code).toBe(Code.ResourceExhausted);
    expect(third.message).toMatch(/maximum of 2 client connections/);
    expect(server.usage().connections.client).toBe(2);
    await peerClient(server.url).ping();
    expect(server.usage().connections.peer).toBe(1);
    await eventually(() => server.usage().pendingConnections === 0);

    one.close();
    await eventually(() => server.usage().connections.client === 1);
    await grpcClient(server.url).kv.put({ key: Buffer.from("4") });
  });

  it("closes connections past the pending cap at once, and pending ones at the identify deadline", async () => {
    const server = await startServer((r) => r.service(KVService, { put: () => ({}) }), {
      maxPendingConnections: 3,
      headersTimeoutMs: 300,
    });
    const idle = await Promise.all([1, 2, 3].map(() => rawSocket(server.port)));
    await eventually(() => server.usage().pendingConnections === 3);
    const fourth = await rawSocket(server.port);
    await closed(fourth);
    expect(idle.every((s) => !s.destroyed)).toBe(true);
    expect(server.usage().refusedConnections).toBe(1);
    // Nothing identified itself within headersTimeoutMs: all three go.
    await Promise.all(idle.map(closed));
    await grpcClient(server.url).kv.put({ key: Buffer.from("k") });
  });

  it("closes an HTTP/2 connection that opens no stream by the identify deadline", async () => {
    const server = await startServer((r) => r.service(KVService, { put: () => ({}) }), {
      headersTimeoutMs: 200,
    });
    const session = h2Session(server.url);
    await new Promise<void>((resolve) => session.once("close", () => resolve()));
    await eventually(() => server.connections === 0);
  });

  it("enforces the HTTP/1 headers timeout on later keep-alive requests too (slowloris)", async () => {
    const server = await startServer((r) => r.service(KVService, { put: () => ({}) }), {
      headersTimeoutMs: 300,
    });
    const socket = await rawSocket(server.port);
    const body = "{}";
    socket.write(
      `POST /distkv.v1.KVService/Put HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    await new Promise<void>((resolve) => socket.once("data", () => resolve()));
    // The next request's headers arrive one line at a time, forever.
    socket.write("POST /distkv.v1.KVService/Put HTTP/1.1\r\nHost: x\r\n");
    let n = 0;
    const trickle = setInterval(() => {
      if (!socket.destroyed) socket.write(`X-Slow-${n++}: 1\r\n`);
    }, 50);
    defer(() => clearInterval(trickle));
    await closed(socket);
    expect(n).toBeGreaterThan(2);
  });

  it("answers DEADLINE_EXCEEDED when a unary body does not arrive within requestTimeoutMs", async () => {
    let calls = 0;
    const server = await startServer(
      (r) =>
        r.service(KVService, {
          put: () => {
            calls++;
            return {};
          },
        }),
      { headersTimeoutMs: 200, requestTimeoutMs: 300 },
    );
    const session = h2Session(server.url);
    // Declares 100 bytes, sends 10, and stays open.
    const answer = await h2Request(
      session,
      "/distkv.v1.KVService/Put",
      { "content-type": "application/grpc", te: "trailers" },
      envelope(new Uint8Array(10), 0, 100),
      { end: false },
    );
    expect(statusOf(answer)).toEqual({
      code: Code.DeadlineExceeded,
      message: "the request body did not arrive within 300 ms",
    });
    expect(calls).toBe(0);
  });

  it("closes an HTTP/2 session idle for idleTimeoutMs", async () => {
    const server = await startServer((r) => r.service(KVService, { put: () => ({}) }), {
      idleTimeoutMs: 200,
    });
    const session = h2Session(server.url);
    const answer = await h2Request(
      session,
      "/distkv.v1.KVService/Put",
      { "content-type": "application/grpc", te: "trailers" },
      envelope(lengthField(1, [0x6b])),
    );
    expect(statusOf(answer)?.code).toBe(0);
    await new Promise<void>((resolve) => session.once("close", () => resolve()));
  });

  it.each(["tcp", "http2"] as const)(
    "stops reading a stream at the mux's maxInFlightBytes, and gives the bytes back (%s)",
    async (transport) => {
      const g = gatedPut();
      const server = await startServer((r) =>
        r.service(KVService, {
          pipeline: createPipelineHandler(
            { put: g.put },
            { maxConcurrent: 100, maxInFlightBytes: 250_000 },
          ),
        }),
      );
      const kv = createPipelinedClient({
        baseUrl: server.url,
        transport,
        maxInFlight: 100,
        defaultTimeoutMs: 20_000,
      });
      defer(() => kv.abort());
      const value = new Uint8Array(100_000);
      const puts = Array.from({ length: 10 }, (_, i) => kv.put(`k${i}`, value));
      await eventually(() => g.state.running === 2);
      // Room for two 100 KB calls under 250 KB: the third waits however long we wait.
      await sleep(100);
      expect(g.state.started).toBe(2);
      // The message the calls came in is charged to the server's budget until they end.
      expect(server.usage().inFlightBytes.client).toBeGreaterThan(200_000);
      g.release();
      await Promise.all(puts);
      expect(g.state.started).toBe(10);
      await eventually(() => server.usage().inFlightBytes.client === 0);
    },
  );

  it.each(["tcp", "http2"] as const)(
    "makes a stream wait for room in the server's budget instead of failing it (%s)",
    async (transport) => {
      const g = gatedPut();
      const server = await startServer(
        (r) => r.service(KVService, { pipeline: createPipelineHandler({ put: g.put }) }),
        { readMaxBytes: 256 * KiB, maxConnectionInFlightBytes: 1 * MiB, maxInFlightBytes: 1 * MiB },
      );
      const kv = createPipelinedClient({
        baseUrl: server.url,
        transport,
        maxBatchBytes: 200 * KiB,
        maxFrameBytes: 250 * KiB,
        defaultTimeoutMs: 20_000,
      });
      defer(() => kv.abort());
      const value = new Uint8Array(200 * KiB);
      // One message per call, each charged ~2x 200 KiB: two fit in 1 MiB, the rest wait.
      const puts = Array.from({ length: 6 }, (_, i) => kv.put(`k${i}`, value));
      await eventually(() => g.state.running === 2);
      await sleep(100);
      expect(g.state.started).toBe(2);
      expect(server.usage().inFlightBytes.client).toBeLessThanOrEqual(1 * MiB + 64 * KiB);
      g.release();
      const results = await Promise.allSettled(puts);
      expect(results.every((r) => r.status === "fulfilled")).toBe(true);
      await eventually(() => server.usage().inFlightBytes.client === 0);
    },
  );

  it("answers every malformed stream message with INVALID_ARGUMENT before decoding it", async () => {
    const server = await startServer((r) => registerPeerService(r, {}));
    const session = h2Session(server.url);
    // A ping whose from_node_id is not UTF-8.
    const badPing = lengthField(1, [...lengthField(12, lengthField(1, [0xff, 0xfe]))]);
    const answer = await h2Request(
      session,
      "/distkv.v1.PeerService/Channel",
      { "content-type": "application/grpc", te: "trailers" },
      envelope(badPing),
    );
    expect(statusOf(answer)).toEqual({
      code: Code.InvalidArgument,
      message: expect.stringMatching(/not a valid distkv\.v1\.ChannelRequest: invalid UTF-8/),
    });
  });

  it("validates its options, naming the one that is wrong", () => {
    const routes = (): void => {};
    const attempt = (o: object): unknown => {
      try {
        resolveDistKVServerOptions({ routes, ...o });
        return undefined;
      } catch (e) {
        return e;
      }
    };
    const e1 = attempt({ readMaxBytes: 64 * MiB });
    expect(isInvalidArgumentError(e1)).toBe(true);
    expect(String(e1)).toMatch(/readMaxBytes .* must not exceed maxConnectionInFlightBytes/);
    expect(String(attempt({ peer: { maxConnectionInFlightBytes: 1 * GiB() } }))).toMatch(
      /peer\.maxConnectionInFlightBytes .* must not exceed peer\.maxInFlightBytes/,
    );
    expect(String(attempt({ maxPendingConnections: 0 }))).toMatch(/maxPendingConnections/);
    const r = resolveDistKVServerOptions({ routes });
    expect(r.client).toEqual({
      readMaxBytes: 8 * MiB,
      maxConnections: 4096,
      maxInFlightBytes: 256 * MiB,
      maxConnectionInFlightBytes: 32 * MiB,
    });
    expect(r.peer).toMatchObject({ readMaxBytes: 16 * MiB, services: ["distkv.v1.PeerService"] });
  });

  it("keeps the existing RemoteError for mux calls with no handler", async () => {
    const server = await startServer((r) => registerPeerService(r, {}));
    const peer = peerClient(server.url);
    const err = await peer
      .replicaRead(Buffer.from("k"))
      .then(() => undefined)
      .catch((e: unknown) => e);
    expect(isRemoteError(err)).toBe(true);
    expect((err as { code: Code }).code).toBe(Code.Unimplemented);
    void http2;
  });
});

function GiB(): number {
  return 1024 * MiB;
}
