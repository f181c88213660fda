import { Code } from "@connectrpc/connect";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { defer, startServer } from "../test/harness.js";
import { createMemoryKv, kvRoutes } from "../test/kv-fixture.js";
import { isRemoteError, type RemoteError } from "./errors.js";
import { Consistency, KVService } from "./gen/distkv/v1/kv_pb.js";
import { createPipelineHandler } from "./pipeline-service.js";
import { createPipelinedClient, type PipelinedClientOptions } from "./pipelined-client.js";

async function setup(options: Partial<PipelinedClientOptions> = {}) {
  const kv = createMemoryKv();
  const server = await startServer(kvRoutes(kv));
  const client = createPipelinedClient({ baseUrl: server.url, ...options });
  defer(() => client.abort());
  return { kv, server, client };
}

const text = (b: Uint8Array | undefined): string | undefined =>
  b === undefined ? undefined : Buffer.from(b).toString();

describe.each(["tcp", "http2"] as const)("createPipelinedClient over %s", (transport) => {
  it("puts, gets and deletes over one stream, with string or byte keys", async () => {
    const { kv, client } = await setup({ transport });
    const put = await client.put("k", "v");
    expect(put.replicasAcked).toBe(1);
    expect(text(kv.data.get(Buffer.from("k").toString("hex")))).toBe("v");
    const got = await client.get(Buffer.from("k"));
    expect(got.found).toBe(true);
    expect(text(got.siblings[0]?.value)).toBe("v");
    await client.delete("k");
    expect((await client.get("k")).found).toBe(false);
    expect(client.stats().streamsOpened).toBe(1);
  });

  // Concurrent operations on distinct keys commute, so after all of them the store must equal
  // a sequential model, and every get sees what its own key's earlier writes left.
  it("agrees with a map model under many concurrent operations", async () => {
    const { kv, client } = await setup({ transport, maxInFlight: 32 });
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.oneof(fc.constant("put"), fc.constant("delete"), fc.constant("get")), {
          minLength: 1,
          maxLength: 6,
        }),
        async (keys, script) => {
          kv.data.clear();
          const model = new Map<string, string>();
          await Promise.all(
            keys.map(async (key, i) => {
              for (const [step, op] of script.entries()) {
                if (op === "put") {
                  const value = `${i}-${step}`;
                  await client.put(key, value);
                  model.set(key, value);
                } else if (op === "delete") {
                  await client.delete(key);
                  model.delete(key);
                } else {
                  const got = await client.get(key);
                  expect(got.found).toBe(model.has(key));
                  expect(text(got.siblings[0]?.value)).toBe(model.get(key));
                }
              }
            }),
          );
          expect(kv.data.size).toBe(model.size);
        },
      ),
      { numRuns: 15 },
    );
  });

  it("carries per-call options to the server and errors back as RemoteError", async () => {
    let seen: { consistency: number; timeoutMs: number; frameTimeoutMs: number } | undefined;
    const server = await startServer((r) =>
      r.service(KVService, {
        pipeline: createPipelineHandler({
          get: (req, ctx) => {
            if (req.key.length === 0)
              throw Object.assign(new Error("empty key"), { code: Code.InvalidArgument });
            seen = {
              consistency: req.options?.consistency ?? -1,
              timeoutMs: req.options?.timeoutMs ?? -1,
              frameTimeoutMs: ctx.timeoutMs,
            };
            return { found: false };
          },
        }),
      }),
    );
    const client = createPipelinedClient({ baseUrl: server.url, transport });
    defer(() => client.abort());
    await client.get("k", { consistency: Consistency.ALL, timeoutMs: 750 });
    expect(seen?.consistency).toBe(Consistency.ALL);
    expect(seen?.timeoutMs).toBe(750);
    expect(seen?.frameTimeoutMs).toBeLessThanOrEqual(750);
    expect(seen?.frameTimeoutMs).toBeGreaterThan(500);
    const err = (await client.get("").catch((e: unknown) => e)) as RemoteError;
    expect(isRemoteError(err)).toBe(true);
    expect([err.code, err.message, err.kind]).toEqual([Code.InvalidArgument, "empty key", "get"]);
    const unimpl = (await client.put("k", "v").catch((e: unknown) => e)) as RemoteError;
    expect(unimpl.code).toBe(Code.Unimplemented);
  });

  it("works over the Connect protocol on HTTP/2 as well as gRPC", async () => {
    const { client } = await setup({ transport: "http2", protocol: "connect" });
    await client.put("a", "1");
    expect(text((await client.get("a")).siblings[0]?.value)).toBe("1");
  });
});
