// Many operations in flight over one Pipeline stream.
// Run: npx tsx examples/pipelined.ts (applications import from "@distkv/rpc" instead)
import {
  createDistKVServer,
  createPipelinedClient,
  createPipelineHandler,
  KVService,
} from "../src/index.js";

const store = new Map<string, Uint8Array>();
const server = createDistKVServer({
  routes: (router) =>
    router.service(KVService, {
      pipeline: createPipelineHandler({
        put: (req) => {
          store.set(Buffer.from(req.key).toString(), req.value);
          return { replicasAcked: 1 };
        },
        get: (req) => {
          const v = store.get(Buffer.from(req.key).toString());
          return v === undefined ? { found: false } : { found: true, siblings: [{ value: v }] };
        },
        delete: (req) => {
          store.delete(Buffer.from(req.key).toString());
          return { replicasAcked: 1 };
        },
      }),
    }),
});
await server.start();

const kv = createPipelinedClient({ baseUrl: server.url, maxInFlight: 128 });
const t0 = performance.now();
// 64 workers keep 64 puts in flight. Firing all 10,000 at once would also work up to
// maxInFlight + maxWaiting (256 + 4096 by default); beyond that calls fail fast with
// ResourceExhaustedError instead of queueing without bound.
let next = 0;
const worker = async (): Promise<void> => {
  while (next < 10_000) {
    const i = next++;
    await kv.put(`key-${i}`, `value-${i}`);
  }
};
await Promise.all(Array.from({ length: 64 }, worker));
console.log(`10000 puts in ${(performance.now() - t0).toFixed(0)} ms`, kv.stats());
const got = await kv.get("key-42");
console.log("get key-42:", Buffer.from(got.siblings[0]!.value).toString());
await kv.delete("key-42");
console.log("after delete:", (await kv.get("key-42")).found);
await kv.close();
await server.stop();
