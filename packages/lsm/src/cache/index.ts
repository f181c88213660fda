// Internal barrel for cache/.
export type { BlockCacheStats } from "./block-cache.js";
export { BLOCK_CACHE_ENTRY_OVERHEAD_BYTES, BlockCache } from "./block-cache.js";
