import { defineConfig } from "vitest/config";

// Every package's vitest config merges this one. The JSON report next to each package
// lets .ci/run add up one "N passed, N failed" line for the whole repository.
export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    reporters: ["default", ["json", { outputFile: ".vitest-results.json" }]],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
