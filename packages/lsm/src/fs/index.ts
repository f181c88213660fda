// Internal barrel for fs/.

export type { FaultOp, FaultRule } from "./fault-injecting-fs.js";
export { FaultInjectingFileSystem } from "./fault-injecting-fs.js";
export type { CrashOptions } from "./memory-fs.js";
export { MEMORY_FS_PAGE_BYTES, MemoryFileSystem } from "./memory-fs.js";
export { isProcessAlive, NodeFileSystem } from "./node-fs.js";
export type { FileHandle, FileLock, FileSystem } from "./types.js";
