import type { GetResponse } from "@distkv/rpc";
import type { Random } from "./random.js";
import {
  describeError,
  entryNode,
  getKey,
  putKey,
  sleep,
  type WorkloadContext,
} from "./workload-context.js";

export interface SetWorkloadOptions {
  /** Set keys in use at a time. */
  readonly keys: number;
  /** Concurrent clients, each one add at a time. */
  readonly clients: number;
  /** Adds attempted on a key before it is retired for a fresh one (keeps values small). */
  readonly maxAddsPerKey: number;
}

const MALFORMED = "<malformed>";

/** A set value on the wire: a JSON array of the elements, sorted. */
export function encodeSet(elements: Iterable<string>): Uint8Array {
  return new TextEncoder().encode(JSON.stringify([...new Set(elements)].sort()));
}

/**
 * The elements of one stored set value. A value that is not a JSON array of strings yields the
 * element `<malformed>`, which no client ever adds, so the set checker reports it as unexpected.
 */
export function decodeSet(bytes: Uint8Array): string[] {
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (Array.isArray(parsed) && parsed.every((x) => typeof x === "string")) return parsed;
  } catch {
    // fall through
  }
  return [MALFORMED];
}

/** The union of every sibling's elements: how a reader merges concurrent versions of a set. */
export function mergeSiblings(res: Pick<GetResponse, "siblings">): string[] {
  const out = new Set<string>();
  for (const s of res.siblings) for (const e of decodeSet(s.value)) out.add(e);
  return [...out].sort();
}

/**
 * Jepsen's set workload: each client adds unique elements (`s<client>-<n>`) to one of a few
 * keys by get, merge of the siblings, put with the get's context. Recorded as one `add` per
 * element: `fail` if the get failed (nothing was written), `info` if the put failed (it may have
 * been applied), `ok` once the put is acknowledged. Keys are retired after `maxAddsPerKey`
 * attempts, like Jepsen's independent keys, so values stay small in long runs.
 */
export class SetWorkload {
  /** Every key used, in order of first use (the final reads go through all of them). */
  readonly keysUsed: string[] = [];
  private readonly current: string[] = [];
  private readonly attempts = new Map<string, number>();
  private generation = 0;

  constructor(
    private readonly ctx: WorkloadContext,
    private readonly options: SetWorkloadOptions,
    private readonly random: Random,
  ) {
    for (let i = 0; i < options.keys; i++) this.current.push(this.newKey());
  }

  /** Keys being added to right now. */
  currentKeys(): readonly string[] {
    return this.current;
  }

  /** Runs every client until the context stops. */
  async run(): Promise<void> {
    await Promise.all(
      Array.from({ length: this.options.clients }, (_, i) =>
        this.client(i, this.random.fork(`set-${i}`)),
      ),
    );
  }

  private newKey(): string {
    const key = `set-${this.generation++}`;
    this.keysUsed.push(key);
    this.attempts.set(key, 0);
    return key;
  }

  private takeKey(random: Random): string {
    const slot = random.int(0, this.current.length - 1);
    const key = this.current[slot]!;
    const n = this.attempts.get(key)! + 1;
    this.attempts.set(key, n);
    if (n >= this.options.maxAddsPerKey) this.current[slot] = this.newKey();
    return key;
  }

  private async client(index: number, random: Random): Promise<void> {
    const { ctx } = this;
    const process = `s${index}`;
    const home = ctx.cluster.ids[index % ctx.cluster.ids.length]!;
    for (let seq = 0; !ctx.stopped(); seq++) {
      const entry = entryNode(ctx.cluster, home);
      if (entry === undefined) {
        await sleep(100);
        continue;
      }
      const key = this.takeKey(random);
      const element = `${process}-${seq}`;
      const op = ctx.recorder.invoke({
        process,
        key,
        type: "add",
        value: element,
        coordinator: entry,
        // A get and a put, each with the request deadline.
        deadlineMs: 2 * ctx.deadlineMs,
      });
      let read: GetResponse;
      try {
        read = await getKey(ctx, entry, key);
      } catch (e) {
        ctx.errors.add("add/get", e);
        op.fail(describeError(e));
        continue;
      }
      const merged = new Set(mergeSiblings(read));
      merged.add(element);
      try {
        await putKey(ctx, entry, key, encodeSet(merged), read.context);
        op.ok();
      } catch (e) {
        ctx.errors.add("add/put", e);
        op.info(describeError(e));
      }
    }
  }
}
