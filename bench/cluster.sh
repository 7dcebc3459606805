#!/usr/bin/env bash
# Measures pkg's orchestrator API server (`pkg cluster serve`) against the
# issue's goals: cold start to first served request (< 300 ms), idle
# resident memory (< 60 MiB), creates per second from 32 concurrent
# clients (>= 1,000 /s), listing 10,000 ConfigMaps (< 200 ms), and watch
# delivery latency (create call -> ADDED event, p50/p99).
#
# Usage: bench/cluster.sh            (from the repository root or anywhere)
# Env:   PKG_BIN (default bin/pkg, built when missing), RUNS (cold starts,
#        default 10), CLIENTS (default 32), DURATION (default 10s),
#        LIST_COUNT (default 10000), LIST_RUNS (default 20), EVENTS (default 500).
# The server runs on a temporary data directory and a free port, and is
# stopped on exit whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

PKG_BIN="${PKG_BIN:-bin/pkg}"
RUNS="${RUNS:-10}"
CLIENTS="${CLIENTS:-32}"
DURATION="${DURATION:-10s}"
LIST_COUNT="${LIST_COUNT:-10000}"
LIST_RUNS="${LIST_RUNS:-20}"
EVENTS="${EVENTS:-500}"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/pkg-cluster-bench.XXXXXX")"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

if [ ! -x "$PKG_BIN" ]; then
  echo "building $PKG_BIN" >&2
  mkdir -p "$(dirname "$PKG_BIN")"
  go build -o "$PKG_BIN" ./cmd/pkg
fi
load="$tmp/clusterload"
go build -o "$load" ./bench/clusterload

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

echo "== machine: $(nproc) cores, $(uname -sr), $(go version | awk '{print $3}'), load $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== cold start: exec of 'pkg cluster serve' -> first 200 on /version with the token ($RUNS runs each)"
"$load" coldstart -bin "$PKG_BIN" -runs "$RUNS"

data="$tmp/data"
port="$("$load" freeport)"
url="https://127.0.0.1:$port"
"$PKG_BIN" cluster serve --data-dir "$data" --port "$port" 2>"$tmp/serve.log" &
server_pid=$!
for _ in $(seq 1 200); do
  if [ -s "$data/token" ] && curl -fsS --cacert "$data/ca.crt" -H "Authorization: Bearer $(cat "$data/token")" "$url/version" >/dev/null 2>&1; then
    break
  fi
  sleep 0.05
done
curl -fsS --cacert "$data/ca.crt" -H "Authorization: Bearer $(cat "$data/token")" "$url/version" >/dev/null

echo "== idle memory (VmRSS of the serving process)"
# The server trims what only start-up needed 3 s after it starts (freed
# heap, and its binary's pages unmapped; see orchestrator/cluster/trim_linux.go).
# Measured before the trim, and after 30 s of idling, when the pages the
# idle server uses (heartbeats, controllers' resyncs) have come back.
sleep 2
echo "rss_at_start $(( $(rss_kib "$server_pid") / 1024 )) MiB ($(rss_kib "$server_pid") KiB)"
sleep "${IDLE_SECONDS:-28}"
echo "rss_idle_after_start $(( $(rss_kib "$server_pid") / 1024 )) MiB ($(rss_kib "$server_pid") KiB)"
# The same idle server without the trim, for comparison.
data2="$tmp/data-untrimmed"
port2="$("$load" freeport)"
"$PKG_BIN" cluster serve --trim-startup-memory=false --data-dir "$data2" --port "$port2" 2>"$tmp/serve-untrimmed.log" &
untrimmed_pid=$!
sleep "$(( ${IDLE_SECONDS:-28} + 2 ))"
echo "rss_idle_untrimmed $(( $(rss_kib "$untrimmed_pid") / 1024 )) MiB ($(rss_kib "$untrimmed_pid") KiB)"
kill -TERM "$untrimmed_pid"; wait "$untrimmed_pid" 2>/dev/null || true

echo "== creates: $CLIENTS client-go clients creating ConfigMaps for $DURATION"
"$load" creates -data "$data" -url "$url" -clients "$CLIENTS" -duration "$DURATION"

echo "== list: $LIST_COUNT ConfigMaps in one namespace, median of $LIST_RUNS lists"
"$load" list -data "$data" -url "$url" -count "$LIST_COUNT" -runs "$LIST_RUNS"

echo "== watch: create call -> ADDED event, $EVENTS objects one after another"
"$load" watch -data "$data" -url "$url" -events "$EVENTS"

echo "== memory after the load"
echo "rss_after_load $(( $(rss_kib "$server_pid") / 1024 )) MiB"
echo "store_file $(du -k "$data"/*.db 2>/dev/null | awk '{s+=$1} END {print int(s/1024)}') MiB"
