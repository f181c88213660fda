#!/usr/bin/env node
// Top self-time functions of V8 CPU profiles (node --cpu-prof), summed over every file given.
// Usage: node scripts/profile-top.mjs [--top=25] [--by=function|file|package] [--inclusive]
//        <file.cpuprofile|dir>...
// --inclusive: total time (the function or anything it called) instead of self time.
// Self time of a node = the sampling intervals (timeDeltas) attributed to it; percentages are
// of all samples, idle included, and of the non-idle ("busy") samples.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const args = process.argv.slice(2);
const top = Number(args.find((a) => a.startsWith("--top="))?.slice(6) ?? 25);
const by = args.find((a) => a.startsWith("--by="))?.slice(5) ?? "function";
const inclusive = args.includes("--inclusive");
const inputs = args.filter((a) => !a.startsWith("--"));
const files = inputs.flatMap((p) =>
  statSync(p).isDirectory()
    ? readdirSync(p)
        .filter((f) => f.endsWith(".cpuprofile"))
        .map((f) => join(p, f))
    : [p],
);
if (files.length === 0) {
  console.error("usage: profile-top.mjs [--top=N] [--by=function|file|package] <profile|dir>...");
  process.exit(2);
}

function shortUrl(url) {
  if (url === "") return "(native)";
  const m = /node_modules\/\.pnpm\/[^/]+\/node_modules\/(.*)$/.exec(url);
  if (m) return m[1];
  return url.replace(/^file:\/\/\/work\/main\//, "").replace(/^node:/, "node:");
}

function packageOf(url) {
  if (url === "") return "(native/V8)";
  if (url.startsWith("node:")) return "node core";
  const m = /node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  const w = /\/work\/main\/((?:packages|apps)\/[^/]+)/.exec(url);
  return w ? w[1] : url;
}

const totals = new Map();
let all = 0;
let idle = 0;
for (const file of files) {
  const profile = JSON.parse(readFileSync(file, "utf8"));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = (f) => {
    const url = shortUrl(f.url);
    return by === "package"
      ? packageOf(f.url)
      : by === "file"
        ? url
        : `${f.functionName || "(anonymous)"}  ${url}:${f.lineNumber + 1}`;
  };
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    all += dt;
    if (node.callFrame.functionName === "(idle)") {
      idle += dt;
      return;
    }
    // Self time: the sampled frame. Inclusive: every distinct frame on the sampled stack.
    const keys = new Set([keyOf(node.callFrame)]);
    if (inclusive) {
      for (let p = parent.get(id); p !== undefined; p = parent.get(p)) {
        const f = byId.get(p).callFrame;
        if (f.functionName !== "(root)") keys.add(keyOf(f));
      }
    }
    for (const key of keys) totals.set(key, (totals.get(key) ?? 0) + dt);
  });
}
const busy = all - idle;
console.log(
  `${files.length} profile(s), ${(all / 1e6).toFixed(1)} s sampled, ${((busy / all) * 100).toFixed(1)}% busy`,
);
console.log(`${inclusive ? "incl" : "self"} %all  ${inclusive ? "incl" : "self"} %busy  function`);
for (const [key, t] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(
    `${((t / all) * 100).toFixed(2).padStart(8)}  ${((t / busy) * 100).toFixed(2).padStart(10)}  ${key}`,
  );
}
