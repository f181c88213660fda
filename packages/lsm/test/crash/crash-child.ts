/**
 * Child process of the crash test. Opens the database in argv[2] and writes with sync: true
 * until it is killed, printing "ack <round> <i>" on stdout after each write resolves.
 *   argv: dir, variant ("default" | "small-memtable"), round, writers
 * Keys and values are derived from (round, i) so the parent can check every value byte.
 */
import { open } from "../../src/db.js";
import { expectedValue, keyFor } from "./crash-model.js";

const [dir, variant, roundArg, writersArg] = process.argv.slice(2);
const round = Number(roundArg);
const writers = Number(writersArg ?? "4");
const small = variant === "small-memtable";

const db = await open(dir!, {
  // A tiny memtable and level budget keep flushes and compactions running when the kill lands.
  ...(small
    ? {
        writeBufferBytes: 32 * 1024,
        maxBytesForLevelBase: 256 * 1024,
        targetFileSizeBytes: 64 * 1024,
      }
    : {}),
});
process.stdout.write(`open ${round}\n`);
let next = 0;
const loop = async (): Promise<void> => {
  for (;;) {
    const i = next++;
    await db.put(keyFor(round, i), expectedValue(round, i, small), { sync: true });
    // Unbuffered enough: one write per ack, flushed by the pipe before the next sync returns.
    process.stdout.write(`ack ${round} ${i}\n`);
  }
};
await Promise.all(Array.from({ length: writers }, loop));
