// Public surface of @distkv/cli (a private app package). The executable is dist/main.js; this
// entry point exposes the pieces for tests and for tools that embed the CLI (e.g. a test
// harness that runs commands in-process).

export { type ArgvSpec, type NormalizedArgv, normalizeArgv } from "./argv.js";
export {
  ARGV_SPEC,
  COMMAND_TIMEOUTS,
  COMMAND_USAGE,
  type CommandName,
  type Invocation,
  type ParsedCommandLine,
  parseCommandLine,
  SCRIPT_NAME,
  type ValueSource,
} from "./command-line.js";
export { type BatchInput, runBatch } from "./commands/batch.js";
export { type CleanupInput, runCleanup } from "./commands/cleanup.js";
export {
  DECOMMISSION_CALL_TIMEOUT_MS,
  DECOMMISSION_POLL_MS,
  type DecommissionInput,
  runDecommission,
} from "./commands/decommission.js";
export { type DeleteInput, runDelete } from "./commands/delete.js";
export { type GetInput, runGet } from "./commands/get.js";
export { type InputStream, type PutInput, readValue, runPut } from "./commands/put.js";
export { type RemoveNodeInput, runRemoveNode } from "./commands/removenode.js";
export { type RepairInput, runRepair } from "./commands/repair.js";
export { runStatus } from "./commands/status.js";
export { formatDuration, MAX_DURATION_MS, parseDuration } from "./duration.js";
export {
  CliError,
  type CliErrorOptions,
  ExitCode,
  InvalidDurationError,
  isCliError,
  isInvalidDurationError,
  isRequestRejectedError,
  isRequestTimeoutError,
  isServerFailedError,
  isServerUnreachableError,
  isUsageError,
  RequestRejectedError,
  RequestTimeoutError,
  ServerFailedError,
  ServerUnreachableError,
  UsageError,
} from "./errors.js";
export {
  formatAgo,
  formatBatch,
  formatBytes,
  formatCleanup,
  formatCleanupProgress,
  formatGet,
  formatRemoveNode,
  formatRepair,
  formatRepairProgress,
  formatStatus,
  formatStreaming,
  formatUptime,
  getToJson,
  nodeStateName,
  parseContext,
  toBase64,
} from "./format.js";
export {
  type CliClient,
  type ClientFactory,
  type ClientFactoryOptions,
  type CommandContext,
  defaultClientFactory,
  defaultSleep,
  type OutputStream,
} from "./io.js";
export {
  type CliOptions,
  CONSISTENCY_LEVELS,
  type ConsistencyLevel,
  DEFAULT_CONSISTENCY,
  DEFAULT_SERVER,
  DEFAULT_TIMEOUT,
  parseConsistency,
  type ResolvedCliOptions,
  resolveCliOptions,
} from "./options.js";
export { ProgressLine } from "./progress.js";
export { type RequestTarget, toCliError } from "./rpc-errors.js";
export { type CliDeps, packageVersion, runCli } from "./run.js";
