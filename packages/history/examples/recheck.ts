// Re-checks a saved history: npx tsx examples/recheck.ts <history.jsonl> [--pick-one]
// Prints the report; exit code 0 ok, 1 violation, 2 unknown, 3 unreadable input.
import { readFileSync } from "node:fs";
import { checkHistory, formatReport, isInvalidHistoryError, parseJSONL } from "../src/index.js";

const file = process.argv[2];
if (file === undefined) {
  console.error("usage: recheck <history.jsonl> [--pick-one]");
  process.exit(3);
}
try {
  const history = parseJSONL(readFileSync(file, "utf8"));
  const siblingReads = process.argv.includes("--pick-one") ? "pick-one" : "violation";
  const report = checkHistory(history, { linearizability: { siblingReads } });
  process.stdout.write(formatReport(report, { details: 10 }));
  process.exit(report.verdict === "ok" ? 0 : report.verdict === "violation" ? 1 : 2);
} catch (e) {
  if (!isInvalidHistoryError(e)) throw e;
  console.error(e.message);
  process.exit(3);
}
