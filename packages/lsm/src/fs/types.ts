/**
 * The filesystem seam of the engine. Everything the engine does to disk goes through these two
 * interfaces so tests can substitute an in-memory filesystem that simulates power loss, or a
 * wrapper that injects I/O errors.
 *
 * Hot paths are synchronous on purpose: readSync of a table block is served by the page cache in
 * microseconds, and appendSync lets the WAL write a whole group commit in one call per event-loop
 * turn. Only durability (sync) goes to the thread pool.
 */

export interface FileHandle {
  /** The path this handle was opened with (used in error messages). */
  readonly path: string;
  /** Reads up to `length` bytes at `position`; returns the number read (short at EOF). */
  readSync(buf: Uint8Array, bufOffset: number, length: number, position: number): number;
  /** Asynchronous variant of readSync. */
  read(buf: Uint8Array, bufOffset: number, length: number, position: number): Promise<number>;
  /** Appends at the end of the file (writable handles only). Not durable until sync(). */
  appendSync(data: Uint8Array): void;
  /** fdatasync: every byte appended before the call is durable once it resolves. */
  sync(): Promise<void>;
  /** Blocking fdatasync, for paths that are already off the hot loop. */
  syncSync(): void;
  /** Current size in bytes, including appended but unsynced bytes. */
  size(): number;
  /** Closes the handle. Does not sync. Idempotent. */
  close(): Promise<void>;
}

export interface FileLock {
  /** Releases the lock (removes the lock file). Idempotent. */
  release(): Promise<void>;
}

export interface FileSystem {
  /** Opens an existing file for reading. Throws NotFoundFileError if it does not exist. */
  openReadable(path: string): Promise<FileHandle>;
  /** Synchronous openReadable, for cold paths that must not yield (table cache misses). */
  openReadableSync(path: string): FileHandle;
  /** Creates (or truncates) a file for appending. The directory entry is durable only after syncDir. */
  createWritable(path: string): Promise<FileHandle>;
  /** Opens an existing file for appending at its end. */
  openAppendable(path: string): Promise<FileHandle>;
  /** Reads a whole file. Throws NotFoundFileError if it does not exist. */
  readFile(path: string): Promise<Uint8Array>;
  /**
   * Writes a file so that it is either wholly present with `data` or absent/previous after a
   * crash: write a temp file, sync it, rename over `path`, sync the directory.
   */
  writeFileAtomic(path: string, data: Uint8Array): Promise<void>;
  /** Atomically renames (replacing `to`). Durable only after syncDir of the directory. */
  rename(from: string, to: string): Promise<void>;
  /** Removes a file; no error if it is missing. Durable only after syncDir. */
  remove(path: string): Promise<void>;
  exists(path: string): Promise<boolean>;
  /** Names (not paths) of the entries of `dir`, sorted. */
  list(dir: string): Promise<string[]>;
  /** Creates a directory and its parents; fine if it exists. */
  mkdir(dir: string): Promise<void>;
  /** fsyncs a directory, making the creates/renames/removes inside it durable. */
  syncDir(dir: string): Promise<void>;
  /**
   * Takes an exclusive lock represented by the file `path`. Throws LockedError if another
   * process (NodeFileSystem) or another holder in this FS (MemoryFileSystem) has it.
   */
  lock(path: string): Promise<FileLock>;
}
