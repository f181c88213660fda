// Internal barrel for filter/.
export * from "./bloom.js";
