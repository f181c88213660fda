// Child process for the lock tests: takes (or tries to take) the lock given as argv[2], reports
// the outcome as one JSON line, then holds it until stdin closes or it is killed.
import { NodeFileSystem } from "../node-fs.js";

const lockPath = process.argv[2]!;
try {
  const lock = await new NodeFileSystem().lock(lockPath);
  process.stdout.write(`${JSON.stringify({ ok: true, pid: process.pid })}\n`);
  process.stdin.resume();
  process.stdin.on("end", () => {
    void lock.release().then(() => process.exit(0));
  });
} catch (e) {
  const err = e as Error & { holderPid?: number; lockFile?: string };
  process.stdout.write(
    `${JSON.stringify({ ok: false, name: err.name, message: err.message, holderPid: err.holderPid })}\n`,
  );
  process.exit(0);
}
