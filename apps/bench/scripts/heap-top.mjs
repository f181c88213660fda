#!/usr/bin/env node
// Top allocation sites of sampling heap profiles (heap-sampler.cjs or DevTools
// .heapprofile files): bytes allocated by each function, with its caller, as a share of all.
// Usage: node scripts/heap-top.mjs [--top=N] <file.heapprofile>...
import { readFileSync } from "node:fs";

const args = process.argv.slice(2);
const top = Number(args.find((a) => a.startsWith("--top="))?.slice(6) ?? 30);
const files = args.filter((a) => !a.startsWith("--"));
if (files.length === 0) {
  console.error("usage: heap-top.mjs [--top=N] <file.heapprofile>...");
  process.exit(2);
}

const shortUrl = (url) =>
  url === ""
    ? "(native)"
    : url
        .replace(/^.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, "")
        .replace(/^file:\/\/.*?\/((?:packages|apps)\/)/, "$1");
const frameName = (f) =>
  `${f.functionName || "(anonymous)"} ${shortUrl(f.url)}:${f.lineNumber + 1}`;

const bytesBySite = new Map();
let total = 0;
for (const file of files) {
  const profile = JSON.parse(readFileSync(file, "utf8"));
  // Each node's samples are charged to the node (the allocating function) and its parent.
  const parents = new Map();
  const nodes = new Map();
  const stack = [[profile.head, undefined]];
  while (stack.length > 0) {
    const [node, parent] = stack.pop();
    nodes.set(node.id, node);
    parents.set(node.id, parent);
    for (const child of node.children) stack.push([child, node]);
  }
  for (const sample of profile.samples) {
    const node = nodes.get(sample.nodeId);
    if (node === undefined) continue;
    const parent = parents.get(sample.nodeId);
    const site = `${frameName(node.callFrame)}  <- ${parent ? frameName(parent.callFrame) : "(root)"}`;
    bytesBySite.set(site, (bytesBySite.get(site) ?? 0) + sample.size);
    total += sample.size;
  }
}
console.log(`${files.length} profile(s), ${(total / 1e6).toFixed(1)} MB sampled`);
console.log("  share  allocating function  <- its caller");
for (const [site, bytes] of [...bytesBySite].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${((bytes / total) * 100).toFixed(1).padStart(6)}%  ${site}`);
}
