// Internal barrel for util/ (not part of the public surface).
export { ByteWriter } from "./byte-writer.js";
export * from "./coding.js";
export * from "./compare-bytes.js";
export * from "./crc32c.js";
export { hash32 } from "./hash.js";
