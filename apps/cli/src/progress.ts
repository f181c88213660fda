/**
 * A progress line on stderr for long-running commands (repair, decommission). On a terminal
 * it rewrites one line in place; otherwise (a pipe, a log file, tests) it writes a new line
 * only when the text changes, so a log shows each step once.
 */
import type { OutputStream } from "./io.js";

export class ProgressLine {
  private last: string | undefined;
  private readonly tty: boolean;

  constructor(
    private readonly out: OutputStream,
    private readonly enabled = true,
  ) {
    this.tty = (out as { isTTY?: unknown }).isTTY === true;
  }

  /** Shows `text` as the current progress. */
  show(text: string): void {
    if (!this.enabled || text === this.last) return;
    this.last = text;
    this.out.write(this.tty ? `\r${text}\x1b[K` : `${text}\n`);
  }

  /** A line that stays (an event, not progress): printed on its own line. */
  note(text: string): void {
    if (!this.enabled) return;
    this.end();
    this.out.write(`${text}\n`);
  }

  /** Ends the in-place line on a terminal, so what follows starts on a fresh line. */
  end(): void {
    if (this.tty && this.last !== undefined) this.out.write("\n");
    this.last = undefined;
  }
}
