import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.ts";

export default mergeConfig(
  shared,
  defineConfig({
    // The end-to-end tests run the compiled CLI; build it first so they never test stale code.
    test: { globalSetup: ["test/support/global-setup.ts"] },
  }),
);
