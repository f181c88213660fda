// Run from packages/history: npx tsx examples/quick-start.ts
// (The README shows this file with `from "@distkv/history"`.)
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkHistory, formatReport, HistoryRecorder, parseJSONL } from "../src/index.js";

// A manual clock keeps the example deterministic; a real run uses the default,
// performance.now(), shared by every client of the run.
let now = 0;
const at = (t: number) => {
  now = t;
};
const rec = new HistoryRecorder({ now: () => now });

// Register workload on "user:42": c1 writes twice through node-1, then c2 and c1 read.
at(0);
const w1 = rec.invoke({
  process: "c1",
  key: "user:42",
  type: "write",
  value: "v1",
  coordinator: "n1",
});
at(2);
w1.ok();
at(3);
const w2 = rec.invoke({
  process: "c1",
  key: "user:42",
  type: "write",
  value: "v2",
  coordinator: "n1",
});
at(4);
w2.ok();
at(5);
const r1 = rec.invoke({ process: "c2", key: "user:42", type: "read" });
const r2 = rec.invoke({ process: "c1", key: "user:42", type: "read" });
at(6);
r1.ok({ values: ["v2"], coordinator: "n1" });
// A replica that missed v2 answered c1's read (R = 1 during a partition): a stale read.
r2.ok({ values: ["v1"], coordinator: "n1" });

// A write that timed out: it may or may not have happened.
at(7);
const w3 = rec.invoke({ process: "c3", key: "user:7", type: "write", value: "x1" });
at(5_007);
w3.info("DEADLINE_EXCEEDED");

// Set workload on "cart": adds, then a final read after the faults stopped.
at(10);
const a1 = rec.invoke({ process: "c4", key: "cart", type: "add", value: "apple" });
at(11);
a1.ok();
const a2 = rec.invoke({ process: "c4", key: "cart", type: "add", value: "pear" });
at(12);
a2.ok();
at(20);
const fin = rec.invoke({ process: "final", key: "cart", type: "read" });
at(21);
fin.ok({ values: ["apple"] }); // pear was acknowledged, and is gone

// A request that never returned at all (the client hung).
rec.invoke({ process: "c5", key: "user:7", type: "read" });

const report = checkHistory(rec.history());
process.stdout.write(formatReport(report));

// Save the history; re-check it later, e.g. npx tsx examples/recheck.ts <file>.
const file = join(tmpdir(), "distkv-history-example.jsonl");
writeFileSync(file, rec.toJSONL());
const again = checkHistory(parseJSONL(rec.toJSONL()));
console.log(`\nsaved ${rec.size} operations to ${file}; re-checked: ${again.verdict}`);
