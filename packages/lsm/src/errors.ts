/**
 * Errors of @distkv/lsm. One subclass per failure, each with a fixed `name` so that
 * `isXError()` works across module copies (checking `name`, never `instanceof`).
 *
 * The engine helper may append classes below the marked line.
 */

export interface LsmErrorOptions {
  cause?: unknown;
}

/** Base class of every error this package throws on purpose. */
export class LsmError extends Error {
  override name = "LsmError";
  constructor(message: string, options?: LsmErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
  }
}

/**
 * Stored bytes failed a check (checksum, magic, length, ordering). Carries the file and the byte
 * offset where the bad data starts so an operator can inspect it; the data is never returned.
 */
export class CorruptionError extends LsmError {
  override name = "CorruptionError";
  readonly file: string;
  readonly offset: number;
  readonly reason: string;
  constructor(file: string, offset: number, reason: string, options?: LsmErrorOptions) {
    super(`corruption in ${file} at offset ${offset}: ${reason}`, options);
    this.file = file;
    this.offset = offset;
    this.reason = reason;
  }
}

/** A caller passed a value outside what the API accepts (bad option, key too large...). */
export class InvalidArgumentError extends LsmError {
  override name = "InvalidArgumentError";
}

/** The database directory is locked by another process (or another open() in this process). */
export class LockedError extends LsmError {
  override name = "LockedError";
  readonly lockFile: string;
  readonly holderPid: number | undefined;
  constructor(lockFile: string, holderPid: number | undefined, options?: LsmErrorOptions) {
    super(
      `database is locked: ${lockFile} is held by ${
        holderPid === undefined ? "another opener" : `process ${holderPid}`
      }; close that database first (if that process is gone the lock is taken over on the next open)`,
      options,
    );
    this.lockFile = lockFile;
    this.holderPid = holderPid;
  }
}

/** The database (or iterator/handle) was used after close(). */
export class ClosedError extends LsmError {
  override name = "ClosedError";
}

/** A file that must exist does not (e.g. a table named by the manifest). */
export class NotFoundFileError extends LsmError {
  override name = "NotFoundFileError";
  readonly file: string;
  constructor(file: string, options?: LsmErrorOptions) {
    super(`file not found: ${file}`, options);
    this.file = file;
  }
}

/** An I/O operation failed (the underlying error is the cause). Also thrown by fault injection. */
export class IoError extends LsmError {
  override name = "IoError";
  readonly file: string | undefined;
  constructor(message: string, file?: string, options?: LsmErrorOptions) {
    super(file === undefined ? message : `${message}: ${file}`, options);
    this.file = file;
  }
}

function hasName(e: unknown, name: string): boolean {
  return typeof e === "object" && e !== null && (e as { name?: unknown }).name === name;
}

const LSM_ERROR_NAMES = new Set([
  "LsmError",
  "CorruptionError",
  "InvalidArgumentError",
  "LockedError",
  "ClosedError",
  "NotFoundFileError",
  "IoError",
]);

/** Registers a name appended by another module as an LsmError subclass for isLsmError(). */
export function registerLsmErrorName(name: string): void {
  LSM_ERROR_NAMES.add(name);
}

export function isLsmError(e: unknown): e is LsmError {
  return (
    typeof e === "object" &&
    e !== null &&
    typeof (e as { name?: unknown }).name === "string" &&
    LSM_ERROR_NAMES.has((e as { name: string }).name)
  );
}
export function isCorruptionError(e: unknown): e is CorruptionError {
  return hasName(e, "CorruptionError");
}
export function isInvalidArgumentError(e: unknown): e is InvalidArgumentError {
  return hasName(e, "InvalidArgumentError");
}
export function isLockedError(e: unknown): e is LockedError {
  return hasName(e, "LockedError");
}
export function isClosedError(e: unknown): e is ClosedError {
  return hasName(e, "ClosedError");
}
export function isNotFoundFileError(e: unknown): e is NotFoundFileError {
  return hasName(e, "NotFoundFileError");
}
export function isIoError(e: unknown): e is IoError {
  return hasName(e, "IoError");
}

// ---- classes appended by the engine helper go below this line ----
