import type { Sibling, SiblingSet } from "@distkv/vclock";
import {
  CONFLICT_POLICIES,
  CONSISTENCY_LEVELS,
  type ConflictPolicy,
  type Consistency,
} from "./consistency.js";
import { describe } from "./describe.js";
import { InvalidArgumentError } from "./errors.js";
import { MAX_TIMEOUT_MS } from "./options.js";

/** Options every coordinated request takes. */
export interface RequestOptions {
  /** Overrides the configured R (reads) or W (writes). @default the configured quorum */
  consistency?: Consistency;
  /** Overrides the configured conflict policy. @default options.conflictPolicy */
  conflictPolicy?: ConflictPolicy;
  /** Deadline of this request, in ms (> 0). @default options.timeoutMs */
  timeoutMs?: number;
  /** Aborts the request (it rejects with AbortedError). */
  signal?: AbortSignal;
}

/** Options of `put` and `delete`. */
export interface WriteOptions extends RequestOptions {
  /**
   * The opaque causal context token a `get` returned: the new version supersedes exactly what
   * it covers. Omitted or empty: the coordinator's stored versions (overwrite).
   */
  context?: Uint8Array;
}

/** One live value of a key, as a read returns it. */
export interface ReadValue {
  readonly value: Uint8Array;
  /** Wall-clock time at the coordinator that wrote it (ms since the epoch). */
  readonly timestampMs: number;
}

export interface GetResult {
  /** Whether the key has a live value (false: never written, or deleted). */
  readonly found: boolean;
  /** The live values: one normally, several when concurrent writes are unresolved. */
  readonly siblings: readonly ReadValue[];
  /** Pass to `put`/`delete` to supersede exactly what this read returned. */
  readonly context: Uint8Array;
  /** Replicas that had answered when the result was given. */
  readonly replicasAnswered: number;
  /** The merged sibling set (tombstones included), for callers that need more than values. */
  readonly set: SiblingSet<Uint8Array>;
}

export interface WriteResult {
  /**
   * The causal context of the version just written: what it superseded (the request's context,
   * or without one the coordinator's stored versions) plus the new version. A later write with
   * it supersedes this version but not concurrent siblings the writer never saw (except, as
   * version vectors go, earlier versions coordinated by the same node).
   */
  readonly context: Uint8Array;
  /** Acknowledgements counted towards W when the answer was given (the coordinator's included). */
  readonly replicasAcked: number;
  /** Of those, acknowledgements by substitutes holding a hint (sloppy quorum). */
  readonly hintedAcks: number;
  /** The new version: its dot and timestamp. */
  readonly version: Pick<Sibling<Uint8Array>, "actor" | "counter" | "timestampMs">;
}

/** Checks the per-request options common to reads and writes. */
export function checkRequestOptions(options: RequestOptions, defaultTimeoutMs: number) {
  if (typeof options !== "object" || options === null) {
    throw new InvalidArgumentError(
      "consistency",
      `request options must be an object, got ${describe(options)}`,
    );
  }
  const { consistency, conflictPolicy, timeoutMs, signal } = options;
  if (consistency !== undefined && !CONSISTENCY_LEVELS.includes(consistency)) {
    throw new InvalidArgumentError(
      "consistency",
      `consistency must be "one", "quorum" or "all", got ${describe(consistency)}`,
    );
  }
  if (conflictPolicy !== undefined && !CONFLICT_POLICIES.includes(conflictPolicy)) {
    throw new InvalidArgumentError(
      "conflictPolicy",
      `conflictPolicy must be "siblings" or "lww", got ${describe(conflictPolicy)}`,
    );
  }
  if (
    timeoutMs !== undefined &&
    (typeof timeoutMs !== "number" ||
      !Number.isFinite(timeoutMs) ||
      timeoutMs <= 0 ||
      timeoutMs > MAX_TIMEOUT_MS)
  ) {
    throw new InvalidArgumentError(
      "timeoutMs",
      `timeoutMs must be a number in (0, ${MAX_TIMEOUT_MS}], got ${describe(timeoutMs)}`,
    );
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidArgumentError(
      "signal",
      `signal must be an AbortSignal, got ${describe(signal)}`,
    );
  }
  return {
    consistency,
    conflictPolicy,
    timeoutMs: timeoutMs === undefined ? defaultTimeoutMs : Math.ceil(timeoutMs),
    signal,
  };
}
