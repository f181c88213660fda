// The multiplexer's semantics over real loopback sockets: PeerClient -> one-port server ->
// registerPeerService. Every server and client opened here is closed after each test.
import { Code, ConnectError } from "@connectrpc/connect";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { defer, eventually, gate, sleep, startServer } from "../test/harness.js";
import {
  isCanceledError,
  isChannelClosedError,
  isDeadlineExceededError,
  isRemoteError,
  isResourceExhaustedError,
  isUnavailableError,
  type RemoteError,
} from "./errors.js";
import type { MuxHandlerContext } from "./mux-server.js";
import { createPeerClient, type PeerClientOptions } from "./peer-client.js";
import { type PeerHandlers, type PeerServiceOptions, registerPeerService } from "./peer-service.js";

async function peerServer(handlers: PeerHandlers, options: PeerServiceOptions = {}, port?: number) {
  return startServer(
    (r) => registerPeerService(r, handlers, options),
    port === undefined ? {} : { port },
  );
}

function client(baseUrl: string, options: Partial<PeerClientOptions> = {}) {
  const c = createPeerClient({ baseUrl, ...options });
  defer(() => c.abort());
  return c;
}

const bytes = (s: string): Uint8Array => Buffer.from(s);
const text = (b: Uint8Array): string => Buffer.from(b).toString();

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}

describe("mux over a real stream", () => {
  it("matches every reply to its call when handlers finish in random order", async () => {
    const server = await peerServer({
      // Echo the key back after a key-dependent delay, so replies come back out of order.
      replicaRead: async (req) => {
        await sleep(req.key[0]! % 7);
        return { found: true, siblings: req.key };
      },
    });
    const c = client(server.url, { maxInFlight: 64 });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 16 }), { minLength: 1, maxLength: 150 }),
        async (keys) => {
          const replies = await Promise.all(keys.map((k) => c.replicaRead(k)));
          expect(replies.map((r) => r.siblings)).toEqual(keys);
        },
      ),
      { numRuns: 20 },
    );
    expect(c.stats().streamsOpened).toBe(1);
    expect(c.stats().inFlight).toBe(0);
  });

  it("sends the calls of one turn as one message with coalescing, one per call without", async () => {
    const server = await peerServer({ replicaRead: () => ({ found: false }) });
    const on = client(server.url);
    await on.ping(); // open the stream first
    const before = on.stats();
    await Promise.all(Array.from({ length: 100 }, () => on.replicaRead(bytes("k"))));
    expect(on.stats().messagesSent - before.messagesSent).toBe(1);
    expect(on.stats().framesSent - before.framesSent).toBe(100);

    const off = client(server.url, { coalesce: false });
    await off.ping();
    const b2 = off.stats();
    await Promise.all(Array.from({ length: 100 }, () => off.replicaRead(bytes("k"))));
    expect(off.stats().messagesSent - b2.messagesSent).toBe(100);
  });

  it("fails a call past its deadline, removes it, and cancels the handler", async () => {
    const seen = gate<MuxHandlerContext>();
    const server = await peerServer({
      replicaRead: (_req, ctx) => {
        seen.open(ctx);
        return new Promise(() => {}); // never answers
      },
    });
    const c = client(server.url);
    const err = await rejection(c.replicaRead(bytes("k"), { timeoutMs: 100 }));
    expect(isDeadlineExceededError(err)).toBe(true);
    expect((err as { code: Code }).code).toBe(Code.DeadlineExceeded);
    expect(c.stats().inFlight).toBe(0);
    const ctx = await seen.promise;
    // The handler saw (about) the caller's deadline, and was aborted: by the cancel frame or
    // by its own deadline timer, whichever came first.
    expect(ctx.timeoutMs).toBeLessThanOrEqual(100);
    await eventually(() => ctx.signal.aborted);
    // The channel still works.
    expect((await c.ping()).nodeId).toBe("");
  });

  it("the server aborts each call at its own deadline, one after the other", async () => {
    const aborted: { key: string; reason: unknown }[] = [];
    const started: string[] = [];
    const server = await peerServer(
      {
        replicaRead: (req, ctx) => {
          started.push(text(req.key));
          ctx.signal.addEventListener("abort", () =>
            aborted.push({ key: text(req.key), reason: ctx.signal.reason }),
          );
          return new Promise(() => {}); // never answers
        },
      },
      // Caps every call's deadline far below the client's, so only the server's deadline
      // timer can abort these calls.
      { maxTimeoutMs: 200 },
    );
    const c = client(server.url);
    const pending = [c.replicaRead(bytes("first"), { timeoutMs: 60_000 })];
    await eventually(() => started.length === 1);
    await sleep(50);
    pending.push(c.replicaRead(bytes("second"), { timeoutMs: 60_000 }));
    for (const p of pending) p.catch(() => {}); // unanswered until the client closes
    // The stream's one timer fires for the first deadline, then is set again for the second.
    await eventually(() => aborted.length === 2);
    expect(aborted.map((a) => a.key)).toEqual(["first", "second"]);
    for (const a of aborted) {
      expect(isDeadlineExceededError(a.reason)).toBe(true);
      expect((a.reason as Error).message).toMatch(/replicaRead call exceeded its 200 ms deadline/);
    }
    // The channel still works.
    expect((await c.ping()).nodeId).toBe("");
  });

  it("aborting a call's signal fails it with CanceledError and cancels the server handler", async () => {
    const seen = gate<MuxHandlerContext>();
    const server = await peerServer({
      replicaRead: (_req, ctx) => {
        seen.open(ctx);
        return new Promise(() => {});
      },
    });
    const c = client(server.url);
    const ac = new AbortController();
    const p = c.replicaRead(bytes("k"), { signal: ac.signal, timeoutMs: 60_000 });
    const ctx = await seen.promise;
    ac.abort(new Error("user gave up"));
    const err = await rejection(p);
    expect(isCanceledError(err)).toBe(true);
    expect((err as Error).cause).toEqual(new Error("user gave up"));
    // Only the cancel frame can abort it: its deadline is a minute away.
    await eventually(() => ctx.signal.aborted);
    expect((ctx.signal.reason as Error).message).toBe("canceled by the caller");
    // An already aborted signal fails before anything is sent.
    expect(isCanceledError(await rejection(c.replicaRead(bytes("k"), { signal: ac.signal })))).toBe(
      true,
    );
  });

  it("makes callers wait beyond maxInFlight and refuses them beyond maxWaiting", async () => {
    const release = gate();
    let running = 0;
    const server = await peerServer({
      replicaRead: async () => {
        running++;
        await release.promise;
        return { found: true };
      },
    });
    const c = client(server.url, { maxInFlight: 2, maxWaiting: 1 });
    const first = [c.replicaRead(bytes("a")), c.replicaRead(bytes("b"))];
    const third = c.replicaRead(bytes("c"));
    expect(c.stats().waiting).toBe(1);
    const fourth = await rejection(c.replicaRead(bytes("d")));
    expect(isResourceExhaustedError(fourth)).toBe(true);
    await eventually(() => running === 2);
    await sleep(20);
    expect(running).toBe(2); // the third never reached the server
    release.open();
    await Promise.all([...first, third]);
    expect(running).toBe(3);
    expect(c.stats()).toMatchObject({ inFlight: 0, waiting: 0 });
  });

  it("a waiting caller's deadline covers its wait for a slot", async () => {
    const server = await peerServer({ replicaRead: () => new Promise(() => {}) });
    const c = client(server.url, { maxInFlight: 1 });
    const blocker = c.replicaRead(bytes("a"), { timeoutMs: 300 });
    const err = await rejection(c.replicaRead(bytes("b"), { timeoutMs: 50 }));
    expect(isDeadlineExceededError(err)).toBe(true);
    expect((err as Error).message).toMatch(/waiting for a slot/);
    expect(c.stats().waiting).toBe(0);
    expect(isDeadlineExceededError(await rejection(blocker))).toBe(true);
  });

  it("bounds request bytes in flight, and refuses a call larger than maxFrameBytes", async () => {
    const release = gate();
    let started = 0;
    const server = await peerServer({
      replicaWrite: async () => {
        started++;
        await release.promise;
        return {};
      },
    });
    const c = client(server.url, { maxInFlightBytes: 3000, maxFrameBytes: 10_000 });
    const value = new Uint8Array(1000);
    const calls = Array.from({ length: 5 }, (_, i) =>
      c.replicaWrite({ key: bytes(`k${i}`), siblings: value }),
    );
    await eventually(() => started === 2);
    await sleep(20);
    expect(started).toBe(2); // a third ~1 KB call would pass 3000 bytes
    expect(c.stats().waiting).toBe(3);
    const big = await rejection(
      c.replicaWrite({ key: bytes("big"), siblings: new Uint8Array(20_000) }),
    );
    expect(isResourceExhaustedError(big)).toBe(true);
    expect((big as Error).message).toMatch(/maxFrameBytes/);
    release.open();
    await Promise.all(calls);
    expect(started).toBe(5);
  });

  it("answers RESOURCE_EXHAUSTED for a reply over the server's maxFrameBytes, and the stream lives on", async () => {
    const server = await peerServer(
      { replicaRead: (req) => ({ found: true, siblings: new Uint8Array(req.key[0]! * 1000) }) },
      { maxFrameBytes: 50_000 },
    );
    const c = client(server.url);
    const err = (await rejection(c.replicaRead(new Uint8Array([100])))) as RemoteError;
    expect(err.code).toBe(Code.ResourceExhausted);
    expect(err.message).toMatch(/maxFrameBytes/);
    expect((await c.replicaRead(new Uint8Array([10]))).siblings.length).toBe(10_000);
    expect(c.stats().streamsOpened).toBe(1);
  });

  it("the server runs at most maxConcurrent handlers per stream and stops reading beyond", async () => {
    let running = 0;
    let peak = 0;
    const server = await peerServer(
      {
        replicaRead: async () => {
          running++;
          peak = Math.max(peak, running);
          await sleep(5);
          running--;
          return { found: false };
        },
      },
      { maxConcurrent: 3 },
    );
    const c = client(server.url, { maxInFlight: 50 });
    await Promise.all(Array.from({ length: 60 }, () => c.replicaRead(bytes("k"))));
    expect(peak).toBe(3);
  });

  it("maps handler errors to codes: ConnectError, our errors, plain errors, unknown kinds", async () => {
    const server = await peerServer({
      replicaRead: (req) => {
        if (text(req.key) === "connect") throw new ConnectError("no such key", Code.NotFound);
        if (text(req.key) === "coded")
          throw Object.assign(new Error("busy"), { code: Code.ResourceExhausted });
        throw new Error("boom");
      },
    });
    const c = client(server.url);
    const e1 = (await rejection(c.replicaRead(bytes("connect")))) as RemoteError;
    expect(isRemoteError(e1)).toBe(true);
    expect([e1.code, e1.message, e1.kind]).toEqual([Code.NotFound, "no such key", "replicaRead"]);
    const e2 = (await rejection(c.replicaRead(bytes("coded")))) as RemoteError;
    expect([e2.code, e2.message]).toEqual([Code.ResourceExhausted, "busy"]);
    const e3 = (await rejection(c.replicaRead(bytes("plain")))) as RemoteError;
    expect([e3.code, e3.message]).toEqual([Code.Unknown, "boom"]);
    const e4 = (await rejection(c.replicaWrite({ key: bytes("k") }))) as RemoteError;
    expect(e4.code).toBe(Code.Unimplemented);
    expect(e4.message).toMatch(/replicaWrite/);
  });

  it("fails pending calls with UNAVAILABLE naming the peer when the stream dies, then reconnects", async () => {
    const started = gate();
    const first = await peerServer({
      replicaRead: () => {
        started.open();
        return new Promise(() => {});
      },
    });
    const port = first.port;
    const states: string[] = [];
    const c = client(first.url, {
      backoff: { initialMs: 200, maxMs: 200, jitter: 0 },
      onStateChange: (s) => states.push(s),
    });
    const pending = c.replicaRead(bytes("k"), { timeoutMs: 30_000 });
    await started.promise;
    const t0 = performance.now();
    await first.stop({ gracePeriodMs: 0 });
    const err = await rejection(pending);
    expect(performance.now() - t0).toBeLessThan(10_000); // promptly, not at its 30 s deadline
    expect(isUnavailableError(err)).toBe(true);
    expect((err as Error).message).toContain(first.url);
    expect(c.state).toBe("backoff");

    // During the backoff a call fails fast, naming the peer and the last error.
    const fast = await rejection(c.ping());
    expect(isUnavailableError(fast)).toBe(true);
    expect((fast as Error).message).toMatch(/reconnecting in/);

    // A new server on the same port; the first call after the backoff reconnects.
    await peerServer({ replicaRead: () => ({ found: true }) }, {}, port);
    await sleep(250);
    expect((await c.replicaRead(bytes("k"))).found).toBe(true);
    expect(c.stats().streamsOpened).toBe(2);
    expect(states).toEqual(["connecting", "ready", "backoff", "idle", "connecting", "ready"]);
  });

  it("with waitForReady a call made during the backoff waits for the reconnect", async () => {
    const first = await peerServer({});
    const port = first.port;
    const c = client(first.url, { backoff: { initialMs: 300, maxMs: 300, jitter: 0 } });
    await c.ping();
    await first.stop({ gracePeriodMs: 0 });
    await eventually(() => c.state === "backoff");
    const waiting = c.ping({ waitForReady: true, timeoutMs: 5000 });
    await peerServer({}, { nodeId: "second" }, port);
    expect((await waiting).nodeId).toBe("second");
  });

  it("reports UNAVAILABLE promptly when nothing listens, and never hangs", async () => {
    const server = await peerServer({});
    const url = server.url;
    await server.stop({ gracePeriodMs: 0 });
    const c = client(url, { backoff: { initialMs: 10_000, maxMs: 10_000 } });
    const err = await rejection(c.ping({ timeoutMs: 20_000 }));
    expect(isUnavailableError(err)).toBe(true);
    expect((err as Error).message).toContain(url);
  });

  it("close() lets calls in flight finish, then refuses new ones", async () => {
    const server = await peerServer({
      replicaRead: async () => {
        await sleep(50);
        return { found: true };
      },
    });
    const c = client(server.url);
    const inFlight = c.replicaRead(bytes("k"));
    await sleep(5);
    const closing = c.close();
    expect(isChannelClosedError(await rejection(c.ping()))).toBe(true);
    expect((await inFlight).found).toBe(true);
    await closing;
    expect(c.state).toBe("closed");
  });

  it("a graceful server stop lets calls in flight finish and refuses new calls on the stream", async () => {
    const started = gate();
    const server = await peerServer({
      replicaRead: async () => {
        started.open();
        await sleep(100);
        return { found: true };
      },
    });
    const c = client(server.url);
    const inFlight = c.replicaRead(bytes("k"));
    await started.promise;
    const stopping = server.stop({ gracePeriodMs: 5000 });
    expect((await inFlight).found).toBe(true);
    await stopping;
    expect(isUnavailableError(await rejection(c.ping()))).toBe(true);
  });
});
