// Leaves build/distkv-server at the repository root, so the original README's commands
// (./build/distkv-server -node-id=node1 ...) work verbatim after `pnpm build`.
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const appDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const buildDir = join(appDir, "..", "..", "build");
const target = relative(buildDir, join(appDir, "dist", "main.js"))
  .split("\\")
  .join("/");
mkdirSync(buildDir, { recursive: true });
const launcher = join(buildDir, "distkv-server");
writeFileSync(launcher, `#!/usr/bin/env node\nimport "./${target}";\n`);
chmodSync(launcher, 0o755);
