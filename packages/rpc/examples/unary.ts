// Unary calls against a one-port server: the generated client over gRPC, and plain JSON over
// HTTP/1.1 (what curl sends). Run: npx tsx examples/unary.ts (applications import from "@distkv/rpc")
import * as http from "node:http";
import { createDistKVClient, createDistKVServer, KVService } from "../src/index.js";

const store = new Map<string, Uint8Array>();
const server = createDistKVServer({
  routes: (router) =>
    router.service(KVService, {
      put: (req) => {
        store.set(Buffer.from(req.key).toString(), req.value);
        return { replicasAcked: 1 };
      },
      get: (req) => {
        const v = store.get(Buffer.from(req.key).toString());
        return v === undefined ? { found: false } : { found: true, siblings: [{ value: v }] };
      },
    }),
});
const port = await server.start();

const client = createDistKVClient({ baseUrl: `localhost:${port}`, protocol: "grpc" });
await client.kv.put({ key: Buffer.from("greeting"), value: Buffer.from("hello") });
const got = await client.kv.get({ key: Buffer.from("greeting") });
console.log("gRPC get:", got.found, Buffer.from(got.siblings[0]!.value).toString());
client.close();

// The same port, Connect protocol, JSON over HTTP/1.1 (bytes fields are base64 in JSON).
const body = JSON.stringify({ key: Buffer.from("greeting").toString("base64") });
const json = await new Promise<string>((resolve, reject) => {
  const req = http.request(
    {
      port,
      method: "POST",
      path: "/distkv.v1.KVService/Get",
      headers: { "content-type": "application/json" },
    },
    (res) => {
      let data = "";
      res.on("data", (c: Buffer) => (data += c.toString()));
      res.on("end", () => resolve(data));
    },
  );
  req.on("error", reject);
  req.end(body);
});
console.log("HTTP/1.1 JSON get:", json);
await server.stop();
