#!/usr/bin/env bash
# Issue 6's remaining speed figures on the bundled orchestrator:
#   1. rollout of a new revision of a 50-replica Deployment (apply -> all
#      50 new Pods Ready, old ones gone), and `kubectl rollout undo` of a
#      3-replica Deployment until it is Ready again (goal: under 2 s);
#      these need root and runc, since the node agents run the containers;
#   2. the orchestrator's cpu and memory at rest with 1,000 Pods' worth of
#      objects (20 Deployments of 50 replicas on a cluster without node
#      agents, so the Pods stay Pending and nothing but the controllers'
#      resyncs runs), sampled from /proc over 60 s.
#
# Usage: bench/controllers.sh     Env: PKG_BIN (bin/pkg, rebuilt), REST_SECONDS (60)
set -euo pipefail
cd "$(dirname "$0")/.."
PKG_BIN="${PKG_BIN:-bin/pkg}"
REST_SECONDS="${REST_SECONDS:-60}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/pkg-controllers-bench.XXXXXX")"
cleanup() {
  for d in "$tmp/run" "$tmp/rest"; do "$PKG_BIN" cluster down --data-dir "$d" >/dev/null 2>&1 || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
[ -n "${PKG_BIN_PREBUILT:-}" ] || go build -o "$PKG_BIN" ./cmd/pkg
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_ms() { date +%s%3N; }
echo "== machine: $(nproc) cores, $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg)"

deployment() { # name replicas rev
  cat <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: $1}
spec:
  replicas: $2
  selector: {matchLabels: {app: $1}}
  strategy: {rollingUpdate: {maxSurge: 25%, maxUnavailable: 25%}}
  template:
    metadata: {labels: {app: $1}, annotations: {rev: "$3"}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: app
          image: pkg.dev/testapp:latest
          imagePullPolicy: IfNotPresent
          args: ["-listen", ":8080"]
          readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}
YAML
}

if [ "$(id -u)" = 0 ] && command -v runc >/dev/null 2>&1; then
  go run ./internal/testimage -o "$tmp/testapp.tar"
  "$PKG_BIN" image load "$tmp/testapp.tar" --data-dir "$tmp/run" >/dev/null
  "$PKG_BIN" cluster up --data-dir "$tmp/run" --port "$(freeport)" --nodes 2 >/dev/null
  "$PKG_BIN" cluster kubeconfig --data-dir "$tmp/run" >"$tmp/kubeconfig.run"
  export KUBECONFIG="$tmp/kubeconfig.run"
  for _ in $(seq 1 100); do [ "$(kubectl get nodes --no-headers 2>/dev/null | wc -l)" -ge 2 ] && break; sleep 0.1; done
  kubectl wait --for=condition=Ready node --all --timeout=30s >/dev/null

  echo "== rollout: 50-replica Deployment, new revision applied -> rollout complete"
  deployment fifty 50 1 | kubectl apply -f - >/dev/null
  kubectl rollout status deployment/fifty --timeout=180s >/dev/null
  s=$(now_ms)
  deployment fifty 50 2 | kubectl apply -f - >/dev/null
  kubectl rollout status deployment/fifty --timeout=180s >/dev/null
  echo "rollout_50_ms $(( $(now_ms) - s ))"
  kubectl delete deployment fifty --wait=false >/dev/null

  echo "== rollback: 3-replica Deployment, kubectl rollout undo -> Ready again (5 runs)"
  deployment three 3 1 | kubectl apply -f - >/dev/null
  kubectl rollout status deployment/three --timeout=60s >/dev/null
  : >"$tmp/undo"
  for i in 2 3 4 5 6; do
    deployment three 3 "$i" | kubectl apply -f - >/dev/null
    kubectl rollout status deployment/three --timeout=60s >/dev/null
    s=$(now_ms)
    kubectl rollout undo deployment/three >/dev/null
    kubectl rollout status deployment/three --timeout=60s >/dev/null
    echo $(( $(now_ms) - s )) >>"$tmp/undo"
  done
  sort -n "$tmp/undo" | awk '{a[NR]=$1} END {printf "rollback_3_ms median %d, max %d (includes two kubectl process starts)\n", a[int((NR+1)/2)], a[NR]}'
  "$PKG_BIN" cluster down --data-dir "$tmp/run" >/dev/null
else
  echo "== rollout and rollback skipped: they need root and runc (the node agents run containers)"
fi

echo "== at rest with 1,000 Pods' worth of objects (20 Deployments x 50 replicas, no node agents)"
"$PKG_BIN" cluster up --data-dir "$tmp/rest" --port "$(freeport)" --nodes 0 >/dev/null
"$PKG_BIN" cluster kubeconfig --data-dir "$tmp/rest" >"$tmp/kubeconfig.rest"
export KUBECONFIG="$tmp/kubeconfig.rest"
for i in $(seq 1 20); do deployment "d$i" 50 1; echo "---"; done | kubectl apply -f - >/dev/null
for _ in $(seq 1 120); do
  n=$(kubectl get pods --no-headers 2>/dev/null | wc -l)
  [ "$n" -ge 1000 ] && break
  sleep 1
done
echo "pods $(kubectl get pods --no-headers | wc -l), replicasets $(kubectl get rs --no-headers | wc -l)"
pid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$tmp/rest/cluster.json")
sleep 10 # let the creation burst settle
ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
c0=$(cpu "$pid"); t0=$(now_ms)
sleep "$REST_SECONDS"
c1=$(cpu "$pid"); t1=$(now_ms)
awk -v c="$((c1 - c0))" -v hz="$ticks" -v ms="$((t1 - t0))" 'BEGIN {printf "rest_cpu %.2f%% of one core over %.0f s\n", 100 * (c / hz) / (ms / 1000), ms / 1000}'
echo "rest_rss $(( $(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status") / 1024 )) MiB"
