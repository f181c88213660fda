#!/usr/bin/env bash
# Stops the nodes started by dev-cluster.sh (SIGTERM: they finish requests, flush and exit).
set -uo pipefail
cd "$(dirname "$0")/../../.."
state=data/dev-cluster
shopt -s nullglob
pids=("$state"/*.pid)
if [ ${#pids[@]} -eq 0 ]; then echo "no dev cluster is running"; exit 0; fi
for pidfile in "${pids[@]}"; do
  pid=$(cat "$pidfile")
  name=$(basename "$pidfile" .pid)
  if kill -TERM "$pid" 2>/dev/null; then
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; echo "$name killed (did not stop in 10 s)"; else echo "$name stopped"; fi
  else
    echo "$name was not running"
  fi
  rm -f "$pidfile"
done
