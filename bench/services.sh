#!/usr/bin/env bash
# Measures what a Service and the Ingress add to a request, side by side,
# on the bundled orchestrator: one testapp Pod answering HTTP, reached
#   direct      from the cluster network to the Pod's IP,
#   clusterIP   from the cluster network to the Service's cluster IP
#               (nftables DNAT when nft is installed, else the proxy),
#   nodePort    from the host to 127.0.0.1:nodePort (the sockets joined in
#               the kernel by a BPF sockmap; RELAY=userspace relays them
#               in the orchestrator's process instead),
#   ingress     from the host through the Ingress controller (HTTP proxy).
# Latency: wrk with one kept-alive connection (the median, p99); throughput:
# wrk with 32 connections (requests/s). Issue 7's goal: under 10% added
# latency at the median. Needs root, runc, iproute2 and wrk (Debian's wrk).
#
# For scale, two proven proxies run on the same request where they are
# installed (Debian's nginx-light and haproxy), inside the cluster
# network next to the Pod, each measured like the paths above:
#   nginx       an HTTP reverse proxy with kept-alive upstream connections
#               (what the Ingress does),
#   haproxy-tcp haproxy relaying TCP (what a node port does).
# Without them those rows are skipped (REFERENCE=0 skips them too).
#
# The four paths run one after another, ROUNDS times, so that a shared
# machine's changing load shows as spread rather than as a difference.
#
# Usage: bench/services.sh    Env: PKG_BIN (bin/pkg, rebuilt), SECS (5), ROUNDS (3),
#                                   RELAY (kernel, or userspace)
set -euo pipefail
cd "$(dirname "$0")/.."
PKG_BIN="${PKG_BIN:-bin/pkg}"
SECS="${SECS:-5}"
ROUNDS="${ROUNDS:-3}"
RELAY="${RELAY:-kernel}"
REFERENCE="${REFERENCE:-1}"
relay_flag=()
[ "$RELAY" = userspace ] && relay_flag=(--userspace-relay)
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
tmp="$(mktemp -d "${TMPDIR:-/tmp}/pkg-svc-bench.XXXXXX")"
ref_pids=()
cleanup() {
  for p in "${ref_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  "$PKG_BIN" cluster down --data-dir "$tmp/d" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
go build -o "$PKG_BIN" ./cmd/pkg
go run ./internal/testimage -o "$tmp/testapp.tar"
"$PKG_BIN" image load "$tmp/testapp.tar" --data-dir "$tmp/d" >/dev/null
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
before="$(ip netns list | awk '{print $1}' | sort)"
"$PKG_BIN" cluster up --data-dir "$tmp/d" --port "$port" --nodes 1 "${relay_flag[@]}" >/dev/null
"$PKG_BIN" cluster kubeconfig --data-dir "$tmp/d" >"$tmp/kubeconfig"
export KUBECONFIG="$tmp/kubeconfig"
for _ in $(seq 100); do [ -n "$(kubectl get nodes -o name 2>/dev/null)" ] && break; sleep 0.1; done
kubectl wait --for=condition=Ready node --all --timeout=30s >/dev/null
netns="$(comm -13 <(echo "$before") <(ip netns list | awk '{print $1}' | sort) | grep '^pkg-net-' | head -1)"

kubectl apply -f - >/dev/null <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: echo}
spec:
  replicas: 1
  selector: {matchLabels: {app: echo}}
  template:
    metadata: {labels: {app: echo}}
    spec:
      containers:
      - name: echo
        image: pkg.dev/testapp:latest
        imagePullPolicy: IfNotPresent
        args: ["-listen", ":8080"]
        ports: [{name: http, containerPort: 8080}]
        readinessProbe: {httpGet: {path: /healthz, port: http}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: echo}
spec:
  type: NodePort
  selector: {app: echo}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: echo}
spec:
  rules:
  - host: echo.bench
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: echo, port: {name: http}}}}
YAML
kubectl rollout status deployment/echo --timeout=120s >/dev/null
pod_ip="$(kubectl get pod -l app=echo -o jsonpath='{.items[0].status.podIP}')"
cluster_ip="$(kubectl get svc echo -o jsonpath='{.spec.clusterIP}')"
node_port="$(kubectl get svc echo -o jsonpath='{.spec.ports[0].nodePort}')"
for _ in $(seq 50); do
  ingress_port="$(kubectl get ingress echo -o jsonpath='{.status.loadBalancer.ingress[0].ports[0].port}')"
  [ -n "$ingress_port" ] && break
  sleep 0.1
done
mode=userspace
if ip netns exec "$netns" nft list table ip pkg_services >/dev/null 2>&1; then mode=nftables; fi

inns() { ip netns exec "$netns" "$@"; }
# us VALUE: wrk's latency (e.g. 72.00us, 1.29ms) in microseconds.
us() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /ms$/) n *= 1000; else if (v ~ /[0-9]s$/) n *= 1000000; printf "%.0f", n }'; }
# run NAME WHERE URL [HOST]: the median and p99 with one connection, and
# requests/s with 32; after the direct path, what the path adds to the
# round's direct median.
direct_p50=""
run() {
  local name=$1 where=$2 url=$3 host=${4:-}
  local hdr=()
  [ -n "$host" ] && hdr=(-H "Host: $host")
  local pre=()
  [ "$where" = netns ] && pre=(ip netns exec "$netns")
  "${pre[@]}" wrk -t1 -c1 -d1s "${hdr[@]}" "$url" >/dev/null # warm up
  local lat thr p50 added=""
  lat="$("${pre[@]}" wrk -t1 -c1 -d"${SECS}s" --latency "${hdr[@]}" "$url")"
  thr="$("${pre[@]}" wrk -t2 -c32 -d"${SECS}s" "${hdr[@]}" "$url")"
  p50="$(awk '$1=="50%"{print $2}' <<<"$lat")"
  if [ "$name" = direct ]; then
    direct_p50="$(us "$p50")"
  elif [ -n "$direct_p50" ] && [ "$direct_p50" -gt 0 ]; then
    local d=$(( $(us "$p50") - direct_p50 ))
    added="$(printf 'added %+d us (%+d%%)' "$d" $(( d * 100 / direct_p50 )))"
  fi
  printf '%-10s p50 %8s  p99 %8s  %10s req/s (32 connections)  %s\n' "$name" \
    "$p50" "$(awk '$1=="99%"{print $2}' <<<"$lat")" \
    "$(awk '/^Requests\/sec/{print $2}' <<<"$thr")" "$added"
}
# The reference proxies, in the cluster network, on its loopback.
refs=()
if [ "$REFERENCE" = 1 ] && command -v nginx >/dev/null; then
  mkdir -p "$tmp/nginx"
  cat >"$tmp/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $tmp/nginx;
  proxy_temp_path $tmp/nginx;
  upstream echo { server $pod_ip:8080; keepalive 64; }
  server {
    listen 127.0.0.1:18080;
    location / { proxy_pass http://echo; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
CONF
  ip netns exec "$netns" nginx -c "$tmp/nginx/nginx.conf" -g 'daemon off;' &
  ref_pids+=($!)
  refs+=("nginx http://127.0.0.1:18080/")
fi
if [ "$REFERENCE" = 1 ] && command -v haproxy >/dev/null; then
  cat >"$tmp/haproxy.cfg" <<CONF
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend relay
  bind 127.0.0.1:18081
  default_backend echo
backend echo
  server pod $pod_ip:8080
CONF
  ip netns exec "$netns" haproxy -db -f "$tmp/haproxy.cfg" &
  ref_pids+=($!)
  refs+=("haproxy-tcp http://127.0.0.1:18081/")
fi
for ref in "${refs[@]}"; do
  for _ in $(seq 50); do inns curl -fsS -o /dev/null "${ref#* }" 2>/dev/null && break; sleep 0.1; done
done
[ "$REFERENCE" = 1 ] && [ "${#refs[@]}" -lt 2 ] && echo "(nginx or haproxy not installed: apt-get install nginx-light haproxy for the reference rows)" >&2

echo "== machine: $(nproc) cores, $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg)"
relay="$(grep -o 'relay="[^"]*"' "$tmp/d/serve.log" | tail -1)"
echo "== one testapp Pod; cluster IPs served by: $mode; node ports: $relay; wrk ${SECS}s each, $ROUNDS rounds"
for r in $(seq "$ROUNDS"); do
  echo "-- round $r"
  run direct netns "http://$pod_ip:8080/"
  run clusterIP netns "http://$cluster_ip/"
  run nodePort host "http://127.0.0.1:$node_port/"
  run ingress host "http://127.0.0.1:$ingress_port/" echo.bench
  for ref in "${refs[@]}"; do run "${ref%% *}" netns "${ref#* }"; done
done
