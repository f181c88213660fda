// Preload (`node --require heap-sampler.cjs ...`, or through distkv-bench's
// --distkv-node-options) that records where a process ALLOCATES: V8's sampling heap profiler,
// told to keep samples of objects that were collected since, so the profile shows allocation
// (what makes GC work), not just what is still alive. It starts HEAP_SAMPLER_START_MS after
// start-up (default 8000, past loading and warm-up), samples for HEAP_SAMPLER_MS (default 5000)
// and writes heap-<pid>.heapprofile into HEAP_SAMPLER_DIR (default the working directory).
// Read the result with heap-top.mjs. Sampling costs CPU: do not read throughput off such a run.
"use strict";
const inspector = require("node:inspector");
const fs = require("node:fs");
const path = require("node:path");

const startMs = Number(process.env.HEAP_SAMPLER_START_MS ?? 8000);
const durationMs = Number(process.env.HEAP_SAMPLER_MS ?? 5000);
const dir = process.env.HEAP_SAMPLER_DIR ?? process.cwd();
const session = new inspector.Session();
session.connect();

function report(err) {
  if (err) process.stderr.write(`heap-sampler: ${err.message}\n`);
}

setTimeout(() => {
  session.post(
    "HeapProfiler.startSampling",
    {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    },
    report,
  );
  setTimeout(() => {
    session.post("HeapProfiler.stopSampling", (err, result) => {
      if (err) return report(err);
      const file = path.join(dir, `heap-${process.pid}.heapprofile`);
      fs.writeFileSync(file, JSON.stringify(result.profile));
    });
  }, durationMs).unref();
}, startMs).unref();
