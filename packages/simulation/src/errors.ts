/** Options for the base class. */
export interface SimulationErrorOptions {
  cause?: unknown;
}

/** Base class of the simulation's own errors (not of the anomalies it finds: those are results). */
export class SimulationError extends Error {
  override name = "SimulationError";
  constructor(message: string, options: SimulationErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}

/** Bad simulation options or CLI arguments. */
export class InvalidSimulationOptionsError extends SimulationError {
  override name = "InvalidSimulationOptionsError";
}

/**
 * A call over the simulated network failed: the peer was down (connection refused), or the
 * connection broke because the peer crashed while handling the call.
 */
export class SimNetworkError extends SimulationError {
  override name = "SimNetworkError";
  /** The node that could not be reached. */
  readonly nodeId: string;
  constructor(nodeId: string, message: string, options: SimulationErrorOptions = {}) {
    super(message, options);
    this.nodeId = nodeId;
  }
}

/**
 * A node's storage refuses a call because an earlier write failed (fail-stop: it never serves
 * data whose durability is unknown); the node must be restarted.
 */
export class StorageFailedError extends SimulationError {
  override name = "StorageFailedError";
}

export function isSimulationError(e: unknown): e is SimulationError {
  return (
    e instanceof Error &&
    (e.name === "SimulationError" ||
      e.name === "InvalidSimulationOptionsError" ||
      e.name === "SimNetworkError" ||
      e.name === "StorageFailedError")
  );
}

export function isStorageFailedError(e: unknown): e is StorageFailedError {
  return e instanceof Error && e.name === "StorageFailedError";
}

export function isInvalidSimulationOptionsError(e: unknown): e is InvalidSimulationOptionsError {
  return e instanceof Error && e.name === "InvalidSimulationOptionsError";
}

export function isSimNetworkError(e: unknown): e is SimNetworkError {
  return e instanceof Error && e.name === "SimNetworkError";
}
