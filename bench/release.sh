#!/usr/bin/env bash
# Times the release commands of pkg and of upstream helm v3.22.0 (built as
# ../shared/REFERENCE.md says, by bench/helm-ref.sh) in the same run,
# against the same bundled orchestrator (`pkg cluster serve` on a
# temporary data directory and a free port):
#   install, upgrade and rollback of a 20-resource release, and
#   history and status of a release with 100 revisions.
# Each figure is the median wall time of RUNS runs of the whole command
# (process start included), in milliseconds.
#
# Two tables: "back to back" runs each command right after the one
# before it, while the orchestrator still reacts to that one (new
# ReplicaSets, Pods, Events) on the same cores; "settled" first waits
# until the orchestrator has gone idle (its process used no cpu for
# 0.3 s), as it has when an on-call engineer rolls back minutes after a
# bad upgrade. Both tools get the same treatment in each table.
#
# Usage: bench/release.sh
# Env:   PKG_BIN (default bin/pkg, rebuilt), HELM_BIN (default
#        .cache/helm-ref/helm, built when missing), RUNS (default 10),
#        REVISIONS (default 100).
set -euo pipefail
cd "$(dirname "$0")/.."

PKG_BIN="${PKG_BIN:-bin/pkg}"
HELM_BIN="${HELM_BIN:-.cache/helm-ref/helm}"
RUNS="${RUNS:-10}"
REVISIONS="${REVISIONS:-100}"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/pkg-release-bench.XXXXXX")"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

mkdir -p "$(dirname "$PKG_BIN")"
go build -o "$PKG_BIN" ./cmd/pkg
[ -x "$HELM_BIN" ] || bash bench/helm-ref.sh "$(dirname "$HELM_BIN")" >&2

# The chart: 5 ConfigMaps, 5 Secrets, 5 Services and 5 Deployments.
chart="$tmp/bench20"
mkdir -p "$chart/templates"
printf 'apiVersion: v2\nname: bench20\nversion: 1.0.0\nappVersion: "1"\n' >"$chart/Chart.yaml"
printf 'rev: 0\nreplicas: 1\n' >"$chart/values.yaml"
cat >"$chart/templates/all.yaml" <<'YAML'
{{- range $i := until 5 }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ $.Release.Name }}-cm-{{ $i }}
data:
  rev: {{ $.Values.rev | quote }}
---
apiVersion: v1
kind: Secret
metadata:
  name: {{ $.Release.Name }}-secret-{{ $i }}
stringData:
  rev: {{ $.Values.rev | quote }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $.Release.Name }}-svc-{{ $i }}
spec:
  selector: {app: {{ $.Release.Name }}-{{ $i }}}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $.Release.Name }}-deploy-{{ $i }}
spec:
  replicas: {{ $.Values.replicas }}
  selector:
    matchLabels: {app: {{ $.Release.Name }}-{{ $i }}}
  template:
    metadata:
      labels: {app: {{ $.Release.Name }}-{{ $i }}}
      annotations: {rev: {{ $.Values.rev | quote }}}
    spec:
      containers:
        - name: web
          image: busybox:1.36
          args: ["httpd", "-f", "-p", "8080"]
{{- end }}
YAML

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
data="$tmp/data"
# No node agents: the Deployments' Pods would otherwise be started (and
# their images pulled) in the background while the commands are timed.
"$PKG_BIN" cluster serve --data-dir "$data" --port "$port" --nodes 0 2>"$tmp/serve.log" &
server_pid=$!
for _ in $(seq 1 200); do
  "$PKG_BIN" cluster kubeconfig --data-dir "$data" >"$tmp/kubeconfig" 2>/dev/null && \
    KUBECONFIG="$tmp/kubeconfig" "$PKG_BIN" list >/dev/null 2>&1 && break
  sleep 0.05
done
export KUBECONFIG="$tmp/kubeconfig" HELM_CACHE_HOME="$tmp/hc" HELM_CONFIG_HOME="$tmp/hcfg" HELM_DATA_HOME="$tmp/hd"

# median of the numbers on standard input
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
# time_once CMD...: run CMD, print its duration in ms (to 0.1 ms). The
# clock is bash's own (EPOCHREALTIME, in microseconds): reading it starts
# no process, where two `date` processes around each command added about
# 2 ms to every figure, both tools', and so narrowed the ratios.
time_once() {
  local s e
  s=${EPOCHREALTIME/[.,]/}
  "$@" >/dev/null
  e=${EPOCHREALTIME/[.,]/}
  awk -v d=$((e - s)) 'BEGIN { printf "%.1f\n", d / 1000 }'
}
# server cpu time (clock ticks) so far
server_ticks() { awk '{print $14 + $15}' "/proc/$server_pid/stat"; }
# settle: wait until the orchestrator used no cpu for 0.3 s (at most 20 s)
settle() {
  local last now quiet=0
  last=$(server_ticks)
  for _ in $(seq 1 200); do
    sleep 0.1
    now=$(server_ticks)
    if [ "$now" = "$last" ]; then
      quiet=$((quiet + 1))
      [ "$quiet" -ge 3 ] && return 0
    else
      quiet=0
    fi
    last=$now
  done
  echo "the orchestrator did not go idle within 20 s" >&2
}
# timed MODE FILE CMD...: time CMD into FILE, first settling in mode "settled"
timed() {
  local mode="$1" file="$2"
  shift 2
  [ "$mode" = settled ] && settle
  time_once "$@" >>"$file"
}

declare -A result
bench_tool() {
  local tool="$1" bin="$2" ns="$3" mode op
  "$bin" install warm "$chart" -n "$ns" --create-namespace >/dev/null
  for mode in back settled; do
    for op in install upgrade rollback history status; do : >"$tmp/$tool.$mode.$op"; done
    for i in $(seq 1 "$RUNS"); do
      timed "$mode" "$tmp/$tool.$mode.install" "$bin" install "$mode$i" "$chart" -n "$ns"
      timed "$mode" "$tmp/$tool.$mode.upgrade" "$bin" upgrade "$mode$i" "$chart" -n "$ns" --set rev=1
      timed "$mode" "$tmp/$tool.$mode.rollback" "$bin" rollback "$mode$i" 1 -n "$ns"
    done
  done

  "$bin" install deep "$chart" -n "$ns" >/dev/null
  for i in $(seq 2 "$REVISIONS"); do
    "$bin" upgrade deep "$chart" -n "$ns" --history-max 0 --set rev="$i" >/dev/null
  done
  for mode in back settled; do
    for _ in $(seq 1 "$RUNS"); do
      timed "$mode" "$tmp/$tool.$mode.history" "$bin" history deep -n "$ns"
      timed "$mode" "$tmp/$tool.$mode.status" "$bin" status deep -n "$ns"
    done
  done
  for mode in back settled; do
    for op in install upgrade rollback history status; do
      result[$tool.$mode.$op]=$(median <"$tmp/$tool.$mode.$op")
    done
  done
  [ "$("$bin" history deep -n "$ns" --max 1000 | tail -n +2 | wc -l)" = "$REVISIONS" ] || { echo "$tool kept the wrong number of revisions" >&2; exit 1; }
}

echo "== machine: $(nproc) cores, $(uname -sr), $(go version | awk '{print $3}'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== $("$HELM_BIN" version --short) vs pkg $("$PKG_BIN" version --short); $RUNS runs each, median ms"
bench_tool helm "$HELM_BIN" helm-bench
bench_tool pkg "$PKG_BIN" pkg-bench
for mode in back settled; do
  case $mode in back) echo "-- back to back";; settled) echo "-- settled (the orchestrator idle before each command)";; esac
  printf '%-28s %8s %8s %8s\n' "command" "helm" "pkg" "speedup"
  for op in install upgrade rollback history status; do
    h=${result[helm.$mode.$op]} p=${result[pkg.$mode.$op]}
    case $op in install|upgrade|rollback) label="$op (20 resources)";; *) label="$op ($REVISIONS revisions)";; esac
    printf '%-28s %8s %8s %7.2fx\n' "$label" "$h" "$p" "$(awk -v h="$h" -v p="$p" 'BEGIN {print h/p}')"
  done
done
