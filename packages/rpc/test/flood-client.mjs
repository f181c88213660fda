// A flood of large requests, in its own process so that the server's memory can be measured
// alone (src/flood.test.ts). Every request carries the same value buffer, written by
// reference, so this process stays small however much it sends.
//
// node flood-client.mjs <url> unary    <sessions> <requests per session> <value bytes>
//   Connect unary KVService.Put (application/proto, with Content-Length), one HTTP/2 stream
//   per request.
// node flood-client.mjs <url> pipeline <sessions> <calls per session> <value bytes>
//   One KVService.Pipeline stream per session (gRPC), one put per stream message.
//
// Prints one JSON line when every request has its answer: {"answers": {"<status>": n}}.
import * as http2 from "node:http2";

const [url, mode, sessionsArg, perArg, sizeArg] = process.argv.slice(2);
const sessions = Number(sessionsArg);
const per = Number(perArg);
const value = Buffer.alloc(Number(sizeArg), 0x61);

function varint(n) {
  const out = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

/** PutRequest{key, value} as a head to write before the shared value bytes. */
function putHead(key) {
  return Buffer.from([0x0a, ...varint(key.length), ...key, 0x12, ...varint(value.length)]);
}

const answers = {};
const count = (k) => {
  answers[k] = (answers[k] ?? 0) + 1;
};

function unary(session, i) {
  return new Promise((resolve) => {
    const head = putHead(Buffer.from(`k${i}`));
    const stream = session.request({
      ":method": "POST",
      ":path": "/distkv.v1.KVService/Put",
      "content-type": "application/proto",
      "content-length": String(head.length + value.length),
    });
    let status = 0;
    const body = [];
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      let code = String(status);
      if (status !== 200) {
        try {
          code = JSON.parse(Buffer.concat(body).toString()).code ?? code;
        } catch {
          code = `reset ${stream.rstCode}`;
        }
      } else code = "ok";
      count(code);
      resolve();
    };
    stream.on("response", (h) => {
      status = Number(h[":status"]);
    });
    stream.on("data", (c) => body.push(c));
    stream.on("end", finish);
    stream.on("close", finish);
    stream.on("error", finish);
    stream.write(head);
    stream.end(value);
  });
}

function pipeline(session) {
  return new Promise((resolve) => {
    const stream = session.request({
      ":method": "POST",
      ":path": "/distkv.v1.KVService/Pipeline",
      "content-type": "application/grpc",
      te: "trailers",
    });
    const chunks = [];
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      // Reply frames: PipelineResponse{replies: [PipelineReply{id = 1, body}]}; a put result
      // is field 10, an error field 2. Enough to tell them apart.
      const all = Buffer.concat(chunks);
      let at = 0;
      while (at + 5 <= all.length) {
        const len = all.readUInt32BE(at + 1);
        const payload = all.subarray(at + 5, at + 5 + len);
        at += 5 + len;
        let p = 0;
        while (p < payload.length) {
          // replies: tag 0x0a, length, then PipelineReply fields.
          p++;
          let n = 0;
          let shift = 0;
          for (;;) {
            const b = payload[p++];
            n += (b & 0x7f) * 2 ** shift;
            shift += 7;
            if (b < 0x80) break;
          }
          const reply = payload.subarray(p, p + n);
          p += n;
          // Skip the id (field 1, a varint), then the body's tag says what the reply is.
          let q = 0;
          if (reply[q] === 0x08) {
            q++;
            while (reply[q] >= 0x80) q++;
            q++;
          }
          count(reply[q] === 0x52 ? "ok" : "error");
        }
      }
      resolve();
    };
    stream.on("data", (c) => chunks.push(c));
    stream.on("end", finish);
    stream.on("close", finish);
    stream.on("error", finish);
    for (let i = 0; i < per; i++) {
      const head = putHead(Buffer.from(`k${i}`));
      const put = Buffer.concat([Buffer.from([0x52, ...varint(head.length + value.length)]), head]);
      const call = Buffer.concat([
        Buffer.from([0x08, ...varint(i + 1), 0x10, ...varint(60_000)]),
        put,
      ]);
      const callLen = call.length + value.length;
      const msgHead = Buffer.concat([Buffer.from([0x0a, ...varint(callLen)]), call]);
      const envHead = Buffer.alloc(5);
      envHead.writeUInt32BE(msgHead.length + value.length, 1);
      stream.write(envHead);
      stream.write(msgHead);
      stream.write(value);
    }
    stream.end();
  });
}

const work = [];
for (let s = 0; s < sessions; s++) {
  // Node counts queued outgoing data against maxSessionMemory (10 MiB by default) and resets
  // streams past it with ENHANCE_YOUR_CALM; this client queues its whole flood at once.
  const session = http2.connect(url, { maxSessionMemory: 4096 });
  session.on("error", () => {});
  if (mode === "unary") {
    for (let i = 0; i < per; i++) work.push(unary(session, s * per + i));
  } else {
    work.push(pipeline(session));
  }
}
await Promise.all(work);
process.stdout.write(`${JSON.stringify({ answers })}\n`);
process.exit(0);
