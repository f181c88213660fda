import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.ts";

// The seed search is split over two files (test/seeds-a, test/seeds-b): run them side by side
// on both cores (the default keeps one core free, i.e. one worker on a 2-core machine).
export default mergeConfig(shared, defineConfig({ test: { maxWorkers: 2 } }));
