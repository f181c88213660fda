/**
 * A real Connect server for the CLI's tests: KVService and ClusterService over cleartext
 * HTTP/2 on an ephemeral loopback port, backed by an in-memory map of versioned values.
 *
 * It keeps concurrent versions like DistKV does, so siblings come from real causality: a put
 * with a context supersedes exactly the versions the context names; two puts with the same
 * old context both survive as siblings; a put without a context overwrites everything.
 *
 * Failures to provoke:
 * - a value longer than `maxValueBytes` -> INVALID_ARGUMENT naming the limit;
 * - a key starting with `unavailable:` -> UNAVAILABLE (as if too few replicas answered);
 * - a key starting with `slow:` -> never answers; the call ends when its deadline passes.
 */
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import {
  type BatchResult,
  type BatchResultSchema,
  ClusterService,
  DEFAULT_SERVER_MAX_TIMEOUT_MS,
  KVService,
  type RequestOptions,
  type StatusResponseSchema,
} from "@distkv/rpc";

interface Version {
  id: number;
  /** null for a tombstone. */
  value: Uint8Array | null;
  timestampMs: bigint;
}

/** What one request carried, for assertions. */
export interface SeenRequest {
  method: "put" | "get" | "delete" | "batch" | "status";
  key?: string;
  consistency?: number;
  /** RequestOptions.timeout_ms. */
  optionTimeoutMs?: number;
  /** The remaining deadline from the Connect timeout header, if one was sent. */
  headerTimeoutMs: number | undefined;
}

export interface TestServer {
  /** `127.0.0.1:<port>` */
  readonly address: string;
  readonly port: number;
  readonly requests: SeenRequest[];
  /** The StatusResponse that Status returns. */
  status: MessageInitShape<typeof StatusResponseSchema>;
  close(): Promise<void>;
}

export interface TestServerOptions {
  /** @default 1024 */
  maxValueBytes?: number;
  /**
   * Port on 127.0.0.1; 0 picks a free one.
   * @default 0
   */
  port?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function encodeContext(ids: readonly number[]): Uint8Array {
  return encoder.encode(JSON.stringify(ids));
}

function decodeContext(bytes: Uint8Array): Set<number> {
  if (bytes.length === 0) return new Set();
  try {
    const ids = JSON.parse(decoder.decode(bytes)) as unknown;
    if (Array.isArray(ids) && ids.every((x) => Number.isInteger(x))) return new Set(ids);
  } catch {
    // fall through
  }
  throw new ConnectError("malformed context", Code.InvalidArgument);
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const maxValueBytes = options.maxValueBytes ?? 1024;
  const store = new Map<string, Version[]>();
  const requests: SeenRequest[] = [];
  let nextId = 1;

  const keyOf = (key: Uint8Array) => decoder.decode(key);

  async function provoke(key: string, ctx: HandlerContext): Promise<void> {
    if (key.startsWith("unavailable:")) {
      throw new ConnectError("not enough replicas: 1 of 2 required answered", Code.Unavailable);
    }
    if (key.startsWith("slow:")) {
      await new Promise<void>((resolve) => {
        if (ctx.signal.aborted) resolve();
        ctx.signal.addEventListener("abort", () => resolve(), { once: true });
      });
      throw new ConnectError("gave up waiting for replicas", Code.DeadlineExceeded);
    }
  }

  function write(key: string, value: Uint8Array | null, context: Uint8Array): number[] {
    if (value !== null && value.length > maxValueBytes) {
      throw new ConnectError(
        `value is ${value.length} bytes, over the limit of ${maxValueBytes} bytes`,
        Code.InvalidArgument,
      );
    }
    const current = store.get(key) ?? [];
    const covered = decodeContext(context);
    // No context: overwrite what the coordinator holds.
    const kept = context.length === 0 ? [] : current.filter((v) => !covered.has(v.id));
    const mine: Version = { id: nextId++, value, timestampMs: BigInt(Date.now()) };
    const next = [...kept, mine];
    store.set(key, next);
    return next.map((v) => v.id);
  }

  function seen(
    method: SeenRequest["method"],
    key: string | undefined,
    opts: RequestOptions | undefined,
    ctx: HandlerContext,
  ): void {
    requests.push({
      method,
      ...(key === undefined ? {} : { key }),
      ...(opts === undefined
        ? {}
        : { consistency: opts.consistency, optionTimeoutMs: opts.timeoutMs }),
      headerTimeoutMs: ctx.timeoutMs(),
    });
  }

  const server: TestServer & { http: http2.Http2Server } = {
    address: "",
    port: 0,
    requests,
    status: {},
    http: http2.createServer(
      connectNodeAdapter({
        // The real server's limit: a CLI default above it would be refused there.
        maxTimeoutMs: DEFAULT_SERVER_MAX_TIMEOUT_MS,
        routes: (router) => {
          router.service(KVService, {
            async put(req, ctx) {
              const key = keyOf(req.key);
              seen("put", key, req.options, ctx);
              await provoke(key, ctx);
              const ids = write(key, req.value, req.context);
              return { context: encodeContext(ids), replicasAcked: 2 };
            },
            async get(req, ctx) {
              const key = keyOf(req.key);
              seen("get", key, req.options, ctx);
              await provoke(key, ctx);
              const versions = store.get(key) ?? [];
              const live = versions.filter((v) => v.value !== null);
              return {
                found: live.length > 0,
                siblings: live.map((v) => ({
                  value: v.value ?? new Uint8Array(0),
                  timestampMs: v.timestampMs,
                })),
                context: encodeContext(versions.map((v) => v.id)),
                replicasAnswered: 2,
              };
            },
            async delete(req, ctx) {
              const key = keyOf(req.key);
              seen("delete", key, req.options, ctx);
              await provoke(key, ctx);
              const ids = write(key, null, req.context);
              return { context: encodeContext(ids), replicasAcked: 2 };
            },
            async batch(req, ctx) {
              seen("batch", undefined, req.options, ctx);
              const results: MessageInitShape<typeof BatchResultSchema>[] = [];
              for (const op of req.operations) {
                if (op.op.case !== "put") {
                  results.push({
                    ok: false,
                    errorCode: "unimplemented",
                    errorMessage: "puts only",
                  });
                  continue;
                }
                const key = keyOf(op.op.value.key);
                try {
                  await provoke(key, ctx);
                  const ids = write(key, op.op.value.value, op.op.value.context);
                  results.push({ ok: true, context: encodeContext(ids) });
                } catch (e) {
                  const ce = ConnectError.from(e);
                  results.push({
                    ok: false,
                    errorCode: codeToString(ce.code),
                    errorMessage: ce.rawMessage,
                  } satisfies Partial<BatchResult>);
                }
              }
              return { results };
            },
          });
          router.service(ClusterService, {
            async status(_req, ctx) {
              seen("status", undefined, undefined, ctx);
              return server.status;
            },
          });
        },
      }),
    ),
    async close() {
      for (const s of sessions) s.destroy();
      await new Promise<void>((resolve) => server.http.close(() => resolve()));
    },
  };
  const sessions = new Set<http2.ServerHttp2Session>();
  server.http.on("session", (s) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.http.once("error", reject);
    server.http.listen(options.port ?? 0, "127.0.0.1", resolve);
  });
  const port = (server.http.address() as AddressInfo).port;
  return Object.assign(server, { port, address: `127.0.0.1:${port}` });
}

/** A loopback port with nothing listening (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = http2.createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
