// Internal barrel for sstable/.
export { BlockBuilder } from "./block-builder.js";
export { BlockIterator } from "./block-reader.js";
export * from "./format.js";
export type {
  ResolvedTableBuilderOptions,
  TableBuilderOptions,
  TableBuildResult,
} from "./table-builder.js";
export {
  DEFAULT_BLOCK_SIZE_BYTES,
  DEFAULT_RESTART_INTERVAL,
  resolveTableBuilderOptions,
  TableBuilder,
} from "./table-builder.js";
export type { TableEntry, TableIteratorOptions, TableReaderOptions } from "./table-reader.js";
export { TableReader } from "./table-reader.js";
