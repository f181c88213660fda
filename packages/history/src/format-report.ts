import type { HistoryReport } from "./check-history.js";
import { ANOMALY_KINDS } from "./check-history.js";
import { describeOperation } from "./operation.js";

export interface FormatReportOptions {
  /**
   * How many anomalies to detail per checker (each with its message; a non-linearizable key
   * also with its witness). 0 prints the summary lines only.
   * @default 5
   */
  details?: number;
  /** Witness operations printed per non-linearizable key. @default 20 */
  witnessLines?: number;
}

const ms = (x: number) => `${x.toFixed(x < 10 ? 1 : 0)} ms`;
const count = (n: number, noun: string, plural = `${noun}s`) => `${n} ${n === 1 ? noun : plural}`;

/**
 * The per-run summary for humans: operations checked, each checker's counts, anomalies by kind,
 * the verdict, then the first few anomalies of each checker in detail. Lines end with `\n`.
 */
export function formatReport(report: HistoryReport, options: FormatReportOptions = {}): string {
  const details = options.details ?? 5;
  const witnessLines = options.witnessLines ?? 20;
  const o = report.operations;
  const lines: string[] = [
    `history: ${count(o.total, "operation")} (${o.ok} ok, ${o.fail} fail, ${o.info} info) on ` +
      `${count(o.keys, "key")} by ${count(o.processes, "process", "processes")}`,
  ];
  const detail: string[] = [];

  const lin = report.linearizability;
  if (lin !== null) {
    const n = (v: string) => lin.keys.filter((k) => k.verdict === v).length;
    lines.push(
      `linearizability: ${count(lin.keys.length, "key")}, ${count(lin.operations, "operation")}: ${n("ok")} ok, ` +
        `${n("violation")} violation, ${n("unknown")} unknown; ${lin.statesExplored} states in ${ms(lin.elapsedMs)}` +
        ` | nonlinearizable ${lin.counts.nonlinearizable}, sibling-read ${lin.counts["sibling-read"]}, ` +
        `unwritten-value ${lin.counts["unwritten-value"]}`,
    );
    for (const k of lin.keys) {
      if (k.unknownReason !== undefined) {
        detail.push(
          `  key ${JSON.stringify(k.key)}: search stopped (${k.unknownReason}) after ${k.statesExplored} states`,
        );
      }
    }
    for (const a of lin.keys.flatMap((k) => k.anomalies).slice(0, details)) {
      detail.push(`  [${a.kind}] ${a.message}`);
      if (a.kind === "nonlinearizable") {
        detail.push(`    witness (${a.witness.length} operations, not linearizable on its own):`);
        for (const w of a.witness.slice(0, witnessLines))
          detail.push(`      ${describeOperation(w)}`);
        if (a.witness.length > witnessLines)
          detail.push(`      ... ${a.witness.length - witnessLines} more`);
      }
    }
  }

  const sets = report.sets;
  if (sets !== null) {
    const t = sets.totals;
    lines.push(
      `sets: ${count(sets.keys.length, "key")}, ${count(t.attempted, "element")} attempted (${t.acknowledged} acknowledged, ` +
        `${t.failed} failed, ${t.indeterminate} indeterminate) | present ${t.present}, lost ${t.lost}, ` +
        `unexpected ${t.unexpected}, recovered ${t.recovered}, failed-present ${t.failedPresent}, ` +
        `unsettled ${t.unsettled}`,
    );
    for (const k of sets.keys) {
      if (k.verdict === "unknown") detail.push(`  set ${JSON.stringify(k.key)}: no final read`);
      const list = (name: string, xs: readonly string[]) => {
        if (xs.length > 0 && details > 0) {
          const shown = xs.slice(0, details).map((x) => JSON.stringify(x));
          detail.push(
            `  set ${JSON.stringify(k.key)} ${name}: ${shown.join(", ")}${xs.length > details ? `, ... (${xs.length})` : ""}`,
          );
        }
      };
      list("lost", k.lost);
      list("unexpected", k.unexpected);
      list("failed-present", k.failedPresent);
    }
  }

  const ses = report.sessions;
  if (ses !== null) {
    lines.push(
      `sessions: ${count(ses.sessions, "session")}, ${count(ses.readsChecked, "read")} checked | read-your-writes ` +
        `${ses.counts["read-your-writes"]}, monotonic-reads ${ses.counts["monotonic-reads"]}` +
        (ses.unknownValues > 0 ? `, ${ses.unknownValues} unknown values ignored` : ""),
    );
    for (const s of ses.skippedKeys) {
      if (!s.reason.startsWith("set"))
        detail.push(`  sessions skipped ${JSON.stringify(s.key)}: ${s.reason}`);
    }
    for (const a of ses.anomalies.slice(0, details)) detail.push(`  [${a.kind}] ${a.message}`);
  }

  const dl = report.deadlines;
  if (dl !== null) {
    lines.push(
      `deadlines: ${count(dl.operations, "operation")}, longest ${ms(dl.maxDurationMs)} | late ${dl.counts.late}, ` +
        `unfinished ${dl.counts.unfinished}`,
    );
    for (const a of dl.anomalies.slice(0, details)) detail.push(`  [${a.kind}] ${a.message}`);
  }

  const found = ANOMALY_KINDS.filter((k) => report.anomalies[k] > 0).map(
    (k) => `${k} ${report.anomalies[k]}`,
  );
  lines.push(
    `verdict: ${report.verdict.toUpperCase()}${found.length > 0 ? ` (${found.join(", ")})` : ""}` +
      ` in ${ms(report.elapsedMs)}`,
  );
  if (details > 0) lines.push(...detail);
  return `${lines.join("\n")}\n`;
}
