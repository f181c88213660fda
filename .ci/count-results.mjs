// Adds up the vitest JSON reports every package writes (.vitest-results.json) and prints
// one "N passed, N failed" line. Exits non-zero when no test ran at all.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

let passed = 0;
let failed = 0;
let skipped = 0;
for (const group of ["packages", "apps", "tests"]) {
  if (!existsSync(group)) continue;
  for (const entry of readdirSync(group)) {
    const candidates = [join(group, entry, ".vitest-results.json")];
    if (group === "tests") candidates.push(join(group, ".vitest-results.json"));
    for (const file of candidates) {
      if (!existsSync(file)) continue;
      const report = JSON.parse(readFileSync(file, "utf8"));
      passed += report.numPassedTests ?? 0;
      // A file that failed to load has no test results of its own: count it as one failure.
      const brokenFiles = (report.testResults ?? []).filter(
        (f) => f.status === "failed" && (f.assertionResults ?? []).length === 0,
      ).length;
      failed += (report.numFailedTests ?? 0) + brokenFiles;
      skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
    }
  }
}
// The test command failed though no test did (an unhandled error, a crashed worker): say so and
// count it, so the line never reads "0 failed" for a red run.
// Usage: node .ci/count-results.mjs [exit status of the test command]
const testStatus = process.argv[2];
if (testStatus !== undefined && testStatus !== "0" && failed === 0) {
  console.log("the test command failed outside any test (unhandled error or crash): see above");
  failed = 1;
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
if (passed + failed === 0) process.exit(1);
