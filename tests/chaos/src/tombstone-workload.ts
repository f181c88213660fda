import type { Random } from "./random.js";
import {
  decodeText,
  deleteKey,
  describeError,
  encodeText,
  entryNode,
  getKey,
  putKey,
  sleep,
  type WorkloadContext,
} from "./workload-context.js";

export interface TombstoneWorkloadOptions {
  /** Concurrent clients; each works on keys of its own, one at a time. */
  readonly clients: number;
}

/** Key prefix of the tombstone workload. */
export const TOMBSTONE_KEY_PREFIX = "tomb-";

/** One key's life in the tombstone workload. */
export interface TombstoneCase {
  readonly key: string;
  readonly value: string;
  /** The put was acknowledged. */
  putOk: boolean;
  /** What the read after the put returned (undefined: the read failed). */
  readValues: string[] | undefined;
  /** The delete (with the read's context) was acknowledged. */
  deleteOk: boolean;
}

/** A deleted value that came back. */
export interface Resurrection {
  readonly key: string;
  readonly value: string;
  readonly finalValues: readonly string[];
}

export interface TombstoneCheckResult {
  /** Keys the workload touched. */
  readonly cases: number;
  /** Keys whose put, read (of exactly that value) and delete were all acknowledged. */
  readonly checked: number;
  /** Checked keys whose final read is not empty. */
  readonly resurrected: readonly Resurrection[];
  /** Checked keys without an `ok` final read (the run could not judge them). */
  readonly unread: number;
}

/**
 * Deletes that must stick: each client writes a fresh key once (`t<client>-<n>`), reads it back
 * and deletes it with that read's context, then moves on. All three steps go into the history
 * (as a register key: write, read, delete). After healing, a key whose put, read-of-that-value
 * and delete were acknowledged must read as absent everywhere: its value coming back means a
 * tombstone was lost or purged while a replica still held the value.
 */
export class TombstoneWorkload {
  readonly cases: TombstoneCase[] = [];

  constructor(
    private readonly ctx: WorkloadContext,
    private readonly options: TombstoneWorkloadOptions,
    private readonly random: Random,
  ) {}

  get keysUsed(): string[] {
    return this.cases.map((c) => c.key);
  }

  async run(): Promise<void> {
    await Promise.all(
      Array.from({ length: this.options.clients }, (_, i) =>
        this.client(i, this.random.fork(`tombstone-${i}`)),
      ),
    );
  }

  private async client(index: number, random: Random): Promise<void> {
    const { ctx } = this;
    const process = `t${index}`;
    const ids = ctx.cluster.ids;
    for (let n = 0; !ctx.stopped(); n++) {
      // A random entry per key: the three steps of one key go through one node.
      const entry = entryNode(ctx.cluster, random.pick(ids));
      if (entry === undefined) {
        await sleep(100);
        continue;
      }
      const c: TombstoneCase = {
        key: `${TOMBSTONE_KEY_PREFIX}${process}-${n}`,
        value: `${process}-${n}`,
        putOk: false,
        readValues: undefined,
        deleteOk: false,
      };
      this.cases.push(c);
      const put = ctx.recorder.invoke({
        process,
        key: c.key,
        type: "write",
        value: c.value,
        coordinator: entry,
      });
      try {
        // Blind: the key is fresh, so the coordinator's copy (its context) is empty.
        await putKey(ctx, entry, c.key, encodeText(c.value), undefined);
        put.ok();
        c.putOk = true;
      } catch (e) {
        ctx.errors.add("tombstone/write", e);
        put.info(describeError(e));
        continue;
      }
      const read = ctx.recorder.invoke({ process, key: c.key, type: "read", coordinator: entry });
      let context: Uint8Array;
      try {
        const res = await getKey(ctx, entry, c.key);
        c.readValues = res.siblings.map((s) => decodeText(s.value));
        context = res.context;
        read.ok({ values: c.readValues });
      } catch (e) {
        ctx.errors.add("tombstone/read", e);
        read.fail(describeError(e));
        continue;
      }
      const del = ctx.recorder.invoke({
        process,
        key: c.key,
        type: "delete",
        value: `${c.value}-tombstone`,
        context: c.readValues,
        coordinator: entry,
      });
      try {
        await deleteKey(ctx, entry, c.key, context);
        del.ok();
        c.deleteOk = true;
      } catch (e) {
        ctx.errors.add("tombstone/delete", e);
        del.info(describeError(e));
      }
    }
  }
}

/**
 * Judges the tombstone workload against the final reads (`key -> values`, absent when the
 * final read of a key failed).
 */
export function checkTombstones(
  cases: readonly TombstoneCase[],
  finalValues: ReadonlyMap<string, readonly string[]>,
): TombstoneCheckResult {
  let checked = 0;
  let unread = 0;
  const resurrected: Resurrection[] = [];
  for (const c of cases) {
    const sawExactly =
      c.readValues !== undefined && c.readValues.length === 1 && c.readValues[0] === c.value;
    if (!(c.putOk && sawExactly && c.deleteOk)) continue;
    checked++;
    const final = finalValues.get(c.key);
    if (final === undefined) unread++;
    else if (final.length > 0) {
      resurrected.push({ key: c.key, value: c.value, finalValues: final });
    }
  }
  return { cases: cases.length, checked, resurrected, unread };
}
