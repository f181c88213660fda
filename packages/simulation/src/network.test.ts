import type { ReplicaCallOptions, SiblingPayload } from "@distkv/quorum";
import { createCodec, EMPTY_SIBLING_SET, EMPTY_VERSION_VECTOR, update } from "@distkv/vclock";
import { expect, test } from "vitest";
import { isSimNetworkError } from "./errors.js";
import { CALM_LINK, type ReplicaEndpoint, SimNetwork } from "./network.js";
import { SeededRandom } from "./random.js";
import { type EventOwner, Scheduler } from "./scheduler.js";

const codec = createCodec();
const utf8 = new TextEncoder();
const proc = (traceId: number): EventOwner & { alive: boolean } => ({ alive: true, traceId });

function setup() {
  const scheduler = new Scheduler();
  const network = new SimNetwork(scheduler, new SeededRandom(7), codec);
  network.setDefaultLink({ ...CALM_LINK, minDelayMs: 5, maxDelayMs: 5 });
  return { scheduler, network };
}

function recordingReplica(): ReplicaEndpoint & { writes: number; hang: boolean } {
  const r = {
    writes: 0,
    hang: false,
    write: async () => {
      r.writes++;
      if (r.hang) await new Promise(() => {});
    },
    readEncoded: async () =>
      codec.encodeSiblingSet(
        update(EMPTY_SIBLING_SET, EMPTY_VERSION_VECTOR, utf8.encode("v"), "b", 1),
      ),
  };
  return r;
}

function payload(): SiblingPayload {
  const set = update(EMPTY_SIBLING_SET, EMPTY_VERSION_VECTOR, utf8.encode("x"), "a", 1);
  return { set, bytes: codec.encodeSiblingSet(set) };
}

function callOptions(): ReplicaCallOptions & { controller: AbortController } {
  const controller = new AbortController();
  return { controller, signal: controller.signal, deadlineMs: 0, timeoutMs: 1000 };
}

/** Marks a rejection as handled (the test looks at it later). */
function later<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

async function outcome(p: Promise<unknown>): Promise<string> {
  let result = "pending";
  p.then(
    () => {
      result = "ok";
    },
    (e: unknown) => {
      result = e instanceof Error ? e.message : String(e);
    },
  );
  await new Promise((r) => setImmediate(r));
  return result;
}

test("a replica call is a request and a reply, each taking a link delay", async () => {
  const { scheduler, network } = setup();
  const a = proc(1);
  const b = proc(2);
  const replica = recordingReplica();
  network.attach("a", a);
  network.attach("b", b);
  network.serveReplica("b", b, replica);
  const read = network.replicaTransport("a", a).read("b", utf8.encode("k"), callOptions());
  await scheduler.runFor(9);
  expect(await outcome(read)).toBe("pending");
  await scheduler.runFor(1);
  const set = await read;
  expect(set?.siblings[0]?.actor).toBe("b");
  expect(network.counters).toMatchObject({ sent: 2, delivered: 2, dropped: 0 });
});

test("calls to a node that is down or still starting are refused", async () => {
  const { scheduler, network } = setup();
  const a = proc(1);
  network.attach("a", a);
  network.attach("starting", proc(3)); // attached, replica not served yet
  const t = network.replicaTransport("a", a);
  const down = later(t.write("nobody", utf8.encode("k"), payload(), callOptions()));
  const starting = later(t.write("starting", utf8.encode("k"), payload(), callOptions()));
  await scheduler.runFor(20);
  await expect(down).rejects.toSatisfy(isSimNetworkError);
  await expect(starting).rejects.toThrow(/connection refused/);
  expect(network.counters.refused).toBe(2);
});

test("a crash while handling a call breaks it; a restarted node never answers old calls", async () => {
  const { scheduler, network } = setup();
  const a = proc(1);
  const b1 = proc(2);
  const replica = recordingReplica();
  replica.hang = true;
  network.attach("a", a);
  network.attach("b", b1);
  network.serveReplica("b", b1, replica);
  const t = network.replicaTransport("a", a);
  const inFlight = later(t.write("b", utf8.encode("k"), payload(), callOptions()));
  await scheduler.runFor(6); // delivered, handler hangs
  expect(replica.writes).toBe(1);
  // Sent to the old process, arriving after the restart.
  const late = later(t.write("b", utf8.encode("k"), payload(), callOptions()));
  b1.alive = false;
  network.detach("b");
  const b2 = proc(3);
  network.attach("b", b2);
  network.serveReplica("b", b2, recordingReplica());
  await scheduler.runFor(20);
  await expect(inFlight).rejects.toThrow(/connection reset/);
  await expect(late).rejects.toThrow(/connection refused/);
  expect(network.counters.reset).toBe(1);
});

test("a reply to a caller that died is never delivered", async () => {
  const { scheduler, network } = setup();
  const a = proc(1);
  const b = proc(2);
  network.attach("a", a);
  network.attach("b", b);
  network.serveReplica("b", b, recordingReplica());
  const call = network
    .replicaTransport("a", a)
    .write("b", utf8.encode("k"), payload(), callOptions());
  await scheduler.runFor(6);
  a.alive = false;
  await scheduler.runFor(20);
  expect(await outcome(call)).toBe("pending");
  expect(network.counters.delivered).toBe(1);
});

test("lost messages leave the call pending until its signal aborts", async () => {
  const { scheduler, network } = setup();
  const a = proc(1);
  const b = proc(2);
  network.attach("a", a);
  network.attach("b", b);
  network.serveReplica("b", b, recordingReplica());
  network.setLink("a", "b", { ...CALM_LINK, dropRate: 1 });
  const options = callOptions();
  const call = later(
    network.replicaTransport("a", a).write("b", utf8.encode("k"), payload(), options),
  );
  await scheduler.runFor(100);
  expect(await outcome(call)).toBe("pending");
  options.controller.abort(new Error("deadline"));
  await expect(call).rejects.toThrow("deadline");
  expect(network.counters.dropped).toBe(1);
});

test("duplicated messages are delivered twice; a partition cuts both ways, in flight too", async () => {
  const { scheduler, network } = setup();
  const a = proc(1);
  const b = proc(2);
  const replica = recordingReplica();
  network.attach("a", a);
  network.attach("b", b);
  network.serveReplica("b", b, replica);
  network.setDefaultLink({ ...CALM_LINK, duplicateRate: 1 });
  const t = network.replicaTransport("a", a);
  const first = t.write("b", utf8.encode("k"), payload(), callOptions());
  await scheduler.runFor(30);
  await first;
  expect(replica.writes).toBe(2);
  expect(network.counters.duplicated).toBeGreaterThanOrEqual(2);

  network.setDefaultLink(CALM_LINK);
  const before = replica.writes;
  const cut = t.write("b", utf8.encode("k"), payload(), callOptions());
  network.partition([["a"], ["b"]]); // the request is already on its way
  expect(network.canReach("a", "b")).toBe(false);
  expect(network.canReach("b", "a")).toBe(false);
  await scheduler.runFor(30);
  expect(replica.writes).toBe(before);
  expect(await outcome(cut)).toBe("pending");
  expect(network.counters.partitioned).toBe(1);
  network.heal();
  expect(network.canReach("a", "b")).toBe(true);
});

test("gossip datagrams go to whoever listens; requests are refused by a node that is down", async () => {
  const { scheduler, network } = setup();
  const a = proc(1);
  const b = proc(2);
  network.attach("a", a);
  network.attach("b", b);
  const got: string[] = [];
  network.gossipTransport("b", b).listen({
    onMessage: (from, data) => got.push(`${from}:${data.length}`),
    onRequest: () => Uint8Array.of(9),
  });
  const ta = network.gossipTransport("a", a);
  ta.send("b", Uint8Array.of(1, 2, 3));
  const reply = ta.request!("b", Uint8Array.of(1), new AbortController().signal);
  const refused = later(ta.request!("c", Uint8Array.of(1), new AbortController().signal));
  await scheduler.runFor(20);
  expect(got).toEqual(["a:3"]);
  expect([...(await reply)]).toEqual([9]);
  await expect(refused).rejects.toThrow(/connection refused/);
});

test("bad link conditions are refused", () => {
  const { network } = setup();
  expect(() => network.setDefaultLink({ ...CALM_LINK, dropRate: 2 })).toThrow(/dropRate/);
  expect(() => network.setLink("a", "b", { ...CALM_LINK, minDelayMs: 5, maxDelayMs: 1 })).toThrow(
    /minDelayMs/,
  );
});
