import {
  type Codec,
  createCodec,
  isInvalidEncodingError,
  isLimitExceededError,
  type SiblingSet,
} from "@distkv/vclock";
import { type Clock, systemClock } from "./clock.js";
import { describe } from "./describe.js";
import { HintQueueFullError, InvalidArgumentError, InvalidQuorumOptionsError } from "./errors.js";
import type { HintStore } from "./hint-store.js";
import { keyBytes } from "./key.js";
import { type QuorumLogger, silentLogger } from "./logger.js";
import {
  type ReplicaOptions,
  type ResolvedReplicaOptions,
  resolveReplicaOptions,
} from "./options.js";
import type { ReplicaStore } from "./replica-store.js";
import { QuorumStats } from "./stats.js";

export interface ReplicaInit {
  /** This node's id: a write whose `hintFor` names it is a normal write. */
  localId: string;
  store: ReplicaStore;
  hintStore: HintStore;
  options?: ReplicaOptions;
  /** Decodes incoming bytes; must match the cluster's codec limits. @default createCodec() */
  codec?: Codec;
  /** Shared with this node's Coordinator and HintedHandoff. @default a new QuorumStats */
  stats?: QuorumStats;
  logger?: QuorumLogger;
  /** Stamps new hints with their creation time. @default systemClock */
  clock?: Clock;
}

export interface ReplicaWriteRequestOptions {
  /** The node this write belongs to, when this node is its sloppy-quorum substitute. */
  hintFor?: string | undefined;
  signal?: AbortSignal;
}

/**
 * The receiving side of replication: what the server calls for an incoming peer write or read
 * (replica_write / replica_read frames), so the server only wires bytes to it. A write is merged
 * into the local ReplicaStore, or, when it carries a hint for another node, into the HintStore
 * (bounded by `maxHints`; beyond it the hint is refused with HintQueueFullError and counted as
 * dropped). It resolves only once the data is durable in the store it went to.
 */
export class Replica {
  readonly localId: string;
  readonly options: ResolvedReplicaOptions;
  private readonly store: ReplicaStore;
  private readonly hintStore: HintStore;
  private readonly codec: Codec;
  private readonly stats: QuorumStats;
  private readonly logger: QuorumLogger;
  private readonly clock: Clock;

  constructor(init: ReplicaInit) {
    if (typeof init?.localId !== "string" || init.localId === "") {
      throw new InvalidQuorumOptionsError("replica localId must be a non-empty string");
    }
    if (!init.store || !init.hintStore) {
      throw new InvalidQuorumOptionsError("replica init needs store and hintStore");
    }
    this.localId = init.localId;
    this.options = resolveReplicaOptions(init.options);
    this.store = init.store;
    this.hintStore = init.hintStore;
    this.codec = init.codec ?? createCodec();
    this.stats = init.stats ?? new QuorumStats();
    this.logger = init.logger ?? silentLogger;
    this.clock = init.clock ?? systemClock;
    const hints = init.hintStore;
    this.stats.attachPendingHints(() => hints.size);
  }

  /**
   * Applies an incoming write: `payload` is a decoded sibling set or its encoding (bytes from
   * the wire). Rejects with InvalidArgumentError for a bad key, bad bytes or a bad `hintFor`,
   * with HintQueueFullError when a new hint does not fit.
   */
  async write(
    key: Uint8Array,
    payload: SiblingSet<Uint8Array> | Uint8Array,
    options: ReplicaWriteRequestOptions = {},
  ): Promise<void> {
    const bytes = keyBytes(key, this.options.maxKeyBytes);
    const set = payload instanceof Uint8Array ? this.decode(payload) : payload;
    const { hintFor, signal } = options;
    if (hintFor !== undefined && (typeof hintFor !== "string" || hintFor === "")) {
      throw new InvalidArgumentError(
        "hintFor",
        `hintFor must be a non-empty node id, got ${describe(hintFor)}`,
      );
    }
    if (hintFor === undefined || hintFor === this.localId) {
      await this.store.merge(bytes, set, signal === undefined ? undefined : { signal });
      return;
    }
    const result = await this.hintStore.put(
      hintFor,
      bytes,
      set,
      this.options.maxHints,
      this.clock.nowMs(),
    );
    if (result === "full") {
      this.stats.hintsDropped++;
      this.logger.warn("hint queue full, hint dropped", {
        hintFor,
        maxHints: this.options.maxHints,
      });
      throw new HintQueueFullError(this.options.maxHints);
    }
    this.stats.hintsStored++;
  }

  /** What this node stores for `key` (its own data, never hints); `undefined` if nothing. */
  async read(
    key: Uint8Array,
    options: { signal?: AbortSignal } = {},
  ): Promise<SiblingSet<Uint8Array> | undefined> {
    const bytes = keyBytes(key, this.options.maxKeyBytes);
    return this.store.read(
      bytes,
      options.signal === undefined ? undefined : { signal: options.signal },
    );
  }

  /** `read`, encoded for the wire (`found = result !== undefined`). */
  async readEncoded(
    key: Uint8Array,
    options: { signal?: AbortSignal } = {},
  ): Promise<Uint8Array | undefined> {
    const set = await this.read(key, options);
    return set === undefined ? undefined : this.codec.encodeSiblingSet(set);
  }

  private decode(bytes: Uint8Array): SiblingSet<Uint8Array> {
    try {
      return this.codec.decodeSiblingSet(bytes);
    } catch (e) {
      if (isInvalidEncodingError(e) || isLimitExceededError(e)) {
        throw new InvalidArgumentError(
          "siblings",
          `malformed sibling set: ${(e as Error).message}`,
          {
            cause: e,
          },
        );
      }
      throw e;
    }
  }
}
