/** A point-in-time copy of the counters (plain data, safe to serialise). */
export interface QuorumStatsSnapshot {
  /** Requests this node coordinated, by kind (rejected ones included). */
  readonly requests: { readonly get: number; readonly put: number; readonly delete: number };
  /** Failed requests by error kind. */
  readonly failures: {
    readonly unavailable: number;
    readonly deadlineExceeded: number;
    readonly aborted: number;
    readonly invalidArgument: number;
    readonly notCoordinator: number;
    /** Anything else (a local store failure, ...). */
    readonly other: number;
  };
  readonly readRepair: {
    /** Repair writes sent to stale replicas (the local one included). */
    readonly sent: number;
    /** Repair writes that failed (left to the next read or anti-entropy). */
    readonly failed: number;
  };
  readonly hints: {
    /** Hinted writes this coordinator sent to substitutes. */
    readonly sent: number;
    /** Hinted writes this node accepted as a substitute. */
    readonly stored: number;
    /** Hints this node handed back to their owner (owner acknowledged, hint deleted). */
    readonly delivered: number;
    /** Hinted writes refused because the hint store was full. */
    readonly dropped: number;
    /** Hint deliveries that failed (retried next round). */
    readonly deliveryFailures: number;
    /** Hints deleted undelivered because they were older than the handoff's `maxAgeMs`. */
    readonly expired: number;
    /** Hints waiting in this node's hint store now (its `size`; 0 if none is attached). */
    readonly pending: number;
  };
}

/**
 * Counters shared by one node's Coordinator, Replica and HintedHandoff: create one and pass it to
 * all three (each creates its own otherwise). Plain mutable numbers; `snapshot()` copies them.
 */
export class QuorumStats {
  requestsGet = 0;
  requestsPut = 0;
  requestsDelete = 0;
  unavailable = 0;
  deadlineExceeded = 0;
  aborted = 0;
  invalidArgument = 0;
  notCoordinator = 0;
  otherFailures = 0;
  readRepairsSent = 0;
  readRepairsFailed = 0;
  hintsSent = 0;
  hintsStored = 0;
  hintsDelivered = 0;
  hintsDropped = 0;
  hintDeliveryFailures = 0;
  hintsExpired = 0;
  private pendingSource: (() => number) | undefined;

  /** Where `hints.pending` comes from (Replica and HintedHandoff attach their hint store). */
  attachPendingHints(source: () => number): void {
    this.pendingSource = source;
  }

  /** Counts a failed request by the error's name. */
  countFailure(error: unknown): void {
    const name =
      typeof error === "object" && error !== null ? (error as { name?: unknown }).name : undefined;
    switch (name) {
      case "UnavailableError":
        this.unavailable++;
        break;
      case "DeadlineExceededError":
        this.deadlineExceeded++;
        break;
      case "AbortedError":
        this.aborted++;
        break;
      case "InvalidArgumentError":
        this.invalidArgument++;
        break;
      case "NotCoordinatorError":
        this.notCoordinator++;
        break;
      default:
        this.otherFailures++;
    }
  }

  snapshot(): QuorumStatsSnapshot {
    return {
      requests: { get: this.requestsGet, put: this.requestsPut, delete: this.requestsDelete },
      failures: {
        unavailable: this.unavailable,
        deadlineExceeded: this.deadlineExceeded,
        aborted: this.aborted,
        invalidArgument: this.invalidArgument,
        notCoordinator: this.notCoordinator,
        other: this.otherFailures,
      },
      readRepair: { sent: this.readRepairsSent, failed: this.readRepairsFailed },
      hints: {
        sent: this.hintsSent,
        stored: this.hintsStored,
        delivered: this.hintsDelivered,
        dropped: this.hintsDropped,
        deliveryFailures: this.hintDeliveryFailures,
        expired: this.hintsExpired,
        pending: this.pendingSource?.() ?? 0,
      },
    };
  }
}
