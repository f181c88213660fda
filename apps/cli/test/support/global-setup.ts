/**
 * Builds the CLI (dist/ and the repository-root launcher) once before the tests, so the
 * child-process tests exercise the current sources.
 */
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export default function setup(): void {
  const appDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
  const tsc = createRequire(join(appDir, "package.json")).resolve("typescript/bin/tsc");
  execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], {
    cwd: appDir,
    stdio: "inherit",
  });
  execFileSync(process.execPath, ["scripts/write-launcher.mjs"], { cwd: appDir, stdio: "pipe" });
}
