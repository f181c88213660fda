// Internal barrel for wal/.
export { LOG_BLOCK_SIZE, LOG_HEADER_SIZE, RecordType } from "./format.js";
export type { LogCorruption, LogReadResult } from "./log-reader.js";
export { parseLog, readLog, readLogWithStatus } from "./log-reader.js";
export type { LogWriterOptions } from "./log-writer.js";
export { encodeLog, LogWriter } from "./log-writer.js";
