// @distkv/server as a library: start a node in-process (tests, embedding). The
// `distkv-server` command (main.ts) is a thin wrapper around this.
export {
  ConfigError,
  DEFAULTS,
  type RawConfig,
  resolveConfig,
  type ServerConfig,
} from "./config.js";
export { createLogger, type Logger } from "./log.js";
export { DistKVNode, MAX_BATCH_OPERATIONS, StartupError } from "./node.js";
