// Two clients write the same key concurrently through different coordinators; a reader sees
// both versions (siblings) and resolves them by writing back with the context it read.
// Run: pnpm --filter @distkv/vclock build && npx tsx examples/siblings.ts
import {
  context,
  decodeContext,
  decodeSiblingSet,
  EMPTY_SIBLING_SET,
  encodeContext,
  encodeSiblingSet,
  isStale,
  type SiblingSet,
  sync,
  syncAll,
  update,
  values,
} from "@distkv/vclock";

const utf8 = new TextEncoder();
const text = (set: SiblingSet<Uint8Array>) => values(set).map((v) => new TextDecoder().decode(v));

// Replica n1 coordinates the first write (no earlier version: the empty set's context).
let n1: SiblingSet<Uint8Array> = update(EMPTY_SIBLING_SET, [], utf8.encode("red"), "n1", 1000);
let n2 = sync(EMPTY_SIBLING_SET, n1); // replicated to n2

// Client A read "red" earlier and writes "green" through n1; client B, with the same read,
// writes "blue" through n2 before the replicas exchange anything.
const readCtx = context(n1);
n1 = update(n1, readCtx, utf8.encode("green"), "n1", 2000);
n2 = update(n2, readCtx, utf8.encode("blue"), "n2", 2001);

// A quorum read merges both replies: two siblings, and one context covering both.
const merged = syncAll([n1, n2]);
console.log("siblings:", text(merged)); // [ 'green', 'blue' ]
const token = encodeContext(context(merged)); // opaque bytes handed to the client
console.log("context token:", Buffer.from(token).toString("hex"));
console.log("replica n1 stale?", isStale(n1, merged)); // true: read repair sends it `merged`

// The client resolves the conflict and writes back with the token it got.
const resolved = update(merged, decodeContext(token), utf8.encode("teal"), "n1", 3000);
console.log("after write-back:", text(resolved)); // [ 'teal' ]

// Stored and replicated as bytes; a stale replica that syncs it drops its old siblings.
const stored = encodeSiblingSet(resolved);
console.log("encoded bytes:", stored.length);
console.log("n2 after sync:", text(sync(n2, decodeSiblingSet(stored)))); // [ 'teal' ]
