import type { HashRing } from "@distkv/ring";
import type { Codec } from "@distkv/vclock";
import type { Clock } from "./clock.js";
import type { KeyLock } from "./key-lock.js";
import type { QuorumLogger } from "./logger.js";
import type { ResolvedQuorumOptions } from "./options.js";
import type { ReplicaStore } from "./replica-store.js";
import type { ReplicaTransport } from "./replica-transport.js";
import type { RequestScope } from "./request-scope.js";
import type { QuorumStats } from "./stats.js";

/** What the read and write paths need from their Coordinator (internal). */
export interface CoordinatorCore {
  readonly localId: string;
  readonly options: ResolvedQuorumOptions;
  readonly store: ReplicaStore;
  readonly transport: ReplicaTransport;
  readonly clock: Clock;
  readonly codec: Codec;
  readonly stats: QuorumStats;
  readonly logger: QuorumLogger;
  readonly lock: KeyLock;
  ring(): HashRing;
  /** Nodes taking over `key` (joining, or gaining it from a leaving node); usually none. */
  pendingReplicas(key: Uint8Array): readonly string[];
  /** Whether this read asks every live replica (see `readAllShare`). */
  readAll(): boolean;
  /** Membership liveness; the local node is always alive. */
  isAlive(nodeId: string): boolean;
  openScope<T>(
    timeoutMs: number,
    signal: AbortSignal | undefined,
    onDeadline: () => Error,
  ): RequestScope<T>;
}

/** A short description of a failure cause for error messages and logs. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
