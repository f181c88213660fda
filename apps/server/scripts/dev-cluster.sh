#!/usr/bin/env bash
# Starts a 3-node DistKV cluster in the background on localhost:8080-8082, data under
# ./data/node1..3, logs and pids under ./data/dev-cluster/. `pnpm stop-cluster` stops it.
set -euo pipefail
cd "$(dirname "$0")/../../.."
server=build/distkv-server
[ -x "$server" ] || { echo "dev-cluster: $server is missing; run pnpm build first" >&2; exit 1; }
state=data/dev-cluster
mkdir -p "$state"
seeds="localhost:8080,localhost:8081,localhost:8082"
for i in 1 2 3; do
  port=$((8079 + i))
  pidfile="$state/node$i.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "node$i already running (pid $(cat "$pidfile"))"
    continue
  fi
  nohup "$server" -node-id="node$i" -address="localhost:$port" -data-dir="data/node$i" \
    -seed-nodes="$seeds" >"$state/node$i.log" 2>&1 &
  echo $! >"$pidfile"
  echo "node$i started on localhost:$port (pid $!, log $state/node$i.log)"
done
# Wait until every node answers, so the next command can use the cluster at once.
for i in 1 2 3; do
  port=$((8079 + i))
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    sleep 0.1
  done
done
# Then until the nodes found each other through gossip and all three are in the ring.
client=build/distkv-client
if [ -x "$client" ]; then
  for _ in $(seq 1 150); do
    if [ "$("$client" -server=localhost:8080 status 2>/dev/null | grep -c ' alive ')" = 3 ]; then break; fi
    sleep 0.2
  done
fi
echo "cluster up: try ./build/distkv-client status"
