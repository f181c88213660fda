import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.ts";

// The scenarios start five server processes each on a 2-core machine: one file at a time.
export default mergeConfig(shared, defineConfig({ test: { fileParallelism: false } }));
