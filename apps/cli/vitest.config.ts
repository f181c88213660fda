import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.ts";

export default mergeConfig(
  shared,
  defineConfig({
    // The end-to-end tests run the compiled CLI; build it first so they never test stale code.
    test: {
      globalSetup: ["test/support/global-setup.ts"],
      // connect-node 2.1 destroys an idle HTTP/2 session with an error nobody listens to when
      // the server goes away (a fake node "exiting" mid-test): not a failure of the CLI, whose
      // main.ts ignores the same error. Only that exact message is ignored.
      onUnhandledError: (error) =>
        !/received GOAWAY without any open streams/.test(String(error?.message ?? "")),
    },
  }),
);
