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

export interface RegisterWorkloadOptions {
  /**
   * Keys written blind (no context: the coordinator overwrites what its replica holds), in use
   * at a time. The linearizability check is about these: "a read returns the latest write".
   */
  readonly blindKeys: number;
  /**
   * Keys whose writes and deletes carry the context of the client's own last read of the key
   * (when it has one), in use at a time: a write supersedes only what that read saw.
   */
  readonly contextKeys: number;
  /** Concurrent clients, each one operation at a time, on keys of both kinds. */
  readonly clients: number;
  /**
   * Operations on a key before it is retired for a fresh one. Bounds each key's history, which
   * keeps the linearizability search within budget (Jepsen's independent keys).
   */
  readonly maxOpsPerKey: number;
  /** Share of reads; the rest are writes and deletes. */
  readonly readShare: number;
  /** Share of deletes. */
  readonly deleteShare: number;
}

/** Key prefixes of the two kinds of register keys. */
export const BLIND_KEY_PREFIX = "reg-";
export const CONTEXT_KEY_PREFIX = "ctx-";

interface LastRead {
  readonly values: string[];
  readonly context: Uint8Array;
}

/**
 * A register workload for the linearizability and session checkers: each client reads, writes
 * unique values (`r<client>-<n>`) and deletes, on a few keys at a time: blind on `reg-` keys,
 * with the context of its own last read on `ctx-` keys. Reads are recorded with every sibling
 * value; writes and deletes that fail are `info` (they may have been applied), reads that fail
 * are `fail`.
 */
export class RegisterWorkload {
  readonly keysUsed: string[] = [];
  private readonly current: string[] = [];
  private readonly ops = new Map<string, number>();
  private generation = 0;

  constructor(
    private readonly ctx: WorkloadContext,
    private readonly options: RegisterWorkloadOptions,
    private readonly random: Random,
  ) {
    for (let i = 0; i < options.blindKeys; i++) this.current.push(this.newKey(BLIND_KEY_PREFIX));
    for (let i = 0; i < options.contextKeys; i++) {
      this.current.push(this.newKey(CONTEXT_KEY_PREFIX));
    }
  }

  currentKeys(): readonly string[] {
    return this.current;
  }

  async run(): Promise<void> {
    await Promise.all(
      Array.from({ length: this.options.clients }, (_, i) =>
        this.client(i, this.random.fork(`register-${i}`)),
      ),
    );
  }

  private newKey(prefix: string): string {
    const key = `${prefix}${this.generation++}`;
    this.keysUsed.push(key);
    this.ops.set(key, 0);
    return key;
  }

  private takeKey(random: Random): string {
    const slot = random.int(0, this.current.length - 1);
    const key = this.current[slot]!;
    const n = this.ops.get(key)! + 1;
    this.ops.set(key, n);
    if (n >= this.options.maxOpsPerKey) {
      this.current[slot] = this.newKey(
        key.startsWith(BLIND_KEY_PREFIX) ? BLIND_KEY_PREFIX : CONTEXT_KEY_PREFIX,
      );
    }
    return key;
  }

  private async client(index: number, random: Random): Promise<void> {
    const { ctx, options } = this;
    const process = `r${index}`;
    const ids = ctx.cluster.ids;
    // Homes start after the set clients' so the load spreads over the nodes.
    const home = ids[(index + 2) % ids.length]!;
    const lastRead = new Map<string, LastRead>();
    for (let seq = 0; !ctx.stopped(); seq++) {
      const entry = entryNode(ctx.cluster, home);
      if (entry === undefined) {
        await sleep(100);
        continue;
      }
      const key = this.takeKey(random);
      const roll = random.next();
      if (roll < options.readShare) {
        const op = ctx.recorder.invoke({ process, key, type: "read", coordinator: entry });
        try {
          const res = await getKey(ctx, entry, key);
          const values = res.siblings.map((s) => decodeText(s.value));
          lastRead.set(key, { values, context: res.context });
          op.ok({ values });
        } catch (e) {
          ctx.errors.add("read", e);
          op.fail(describeError(e));
        }
        continue;
      }
      const isDelete = roll >= 1 - options.deleteShare;
      const last = key.startsWith(CONTEXT_KEY_PREFIX) ? lastRead.get(key) : undefined;
      // A context is used once: the next write of the key starts from a new read.
      lastRead.delete(key);
      const value = `${process}-${seq}`;
      const op = ctx.recorder.invoke({
        process,
        key,
        type: isDelete ? "delete" : "write",
        value,
        ...(last === undefined ? {} : { context: last.values }),
        coordinator: entry,
      });
      try {
        if (isDelete) await deleteKey(ctx, entry, key, last?.context);
        else await putKey(ctx, entry, key, encodeText(value), last?.context);
        op.ok();
      } catch (e) {
        ctx.errors.add(isDelete ? "delete" : "write", e);
        op.info(describeError(e));
      }
    }
  }
}
