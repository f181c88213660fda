import { defineConfig } from "vitest/config";

// Every package's vitest config merges this one. The JSON report next to each package
// lets .ci/run add up one "N passed, N failed" line for the whole repository.
export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    reporters: ["default", ["json", { outputFile: ".vitest-results.json" }]],
    // Hang guards, not timing assertions: CI runs every package's tests at once on 2 cores, and
    // a 200-seed power-loss test that takes 2.6 s alone took over 30 s at load average 17.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
