// The server half of bench/channel.ts, run in its own process so that client and server each
// get a core. Prints its port on stdout, exits when stdin closes.
import type { HandlerContext } from "@connectrpc/connect";
import { KVService } from "../src/gen/distkv/v1/kv_pb.js";
import { PeerService } from "../src/gen/distkv/v1/peer_pb.js";
import { createPeerChannelHandler, type PeerHandlers } from "../src/peer-service.js";
import { createPipelineHandler, type PipelineHandlers } from "../src/pipeline-service.js";
import { createDistKVServer } from "../src/server.js";
import { createMemoryKv } from "../test/kv-fixture.js";

const kv = createMemoryKv();
const replicas = new Map<string, Uint8Array>();
const peerHandlers: PeerHandlers = {
  replicaWrite: (req) => {
    replicas.set(Buffer.from(req.key).toString("hex"), req.siblings);
    return {};
  },
};
const pipelineHandlers: PipelineHandlers = {
  put: (req) => kv.put(req),
  get: (req) => kv.get(req),
  delete: (req) => kv.delete(req),
};
// The client picks server-side coalescing per stream with a header, so one server serves
// both variants of the comparison.
function perStream<Req, Res>(
  on: (r: AsyncIterable<Req>, c: HandlerContext) => AsyncIterable<Res>,
  off: (r: AsyncIterable<Req>, c: HandlerContext) => AsyncIterable<Res>,
) {
  return (r: AsyncIterable<Req>, c: HandlerContext) =>
    c.requestHeader.get("x-bench-coalesce") === "off" ? off(r, c) : on(r, c);
}

const server = createDistKVServer({
  routes: (router) => {
    router.service(KVService, {
      put: (req) => kv.put(req),
      get: (req) => kv.get(req),
      delete: (req) => kv.delete(req),
      pipeline: perStream(
        createPipelineHandler(pipelineHandlers),
        createPipelineHandler(pipelineHandlers, { coalesce: false }),
      ),
    });
    router.service(PeerService, {
      channel: perStream(
        createPeerChannelHandler(peerHandlers),
        createPeerChannelHandler(peerHandlers, { coalesce: false }),
      ),
    });
  },
});
const port = await server.start();
process.stdout.write(`${port}\n`);
process.stdin.resume();
process.stdin.on("end", () => {
  void server.stop({ gracePeriodMs: 500 }).then(() => process.exit(0));
});
