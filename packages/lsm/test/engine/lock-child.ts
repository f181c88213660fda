// Child process for lock.test.ts: opens the database, reports "ready", and holds it until killed.
import { open } from "../../src/index.js";

const db = await open(process.argv[2]!);
await db.put(new Uint8Array([1]), new Uint8Array([2]), { sync: true });
process.stdout.write("ready\n");
setInterval(() => {}, 1000);
