#!/usr/bin/env bash
# Times `pkg template` against `helm template` (v3.22.0, built as released)
# as whole processes on the same charts, alternating runs so that both see
# the same machine state. Prints median and mean wall time and peak RSS.
#
# Usage: HELM=/path/to/helm PKG=/path/to/pkg bench/template.sh [RUNS] [CHART...]
set -euo pipefail
cd "$(dirname "$0")/.."
HELM="${HELM:-.cache/helm-ref/helm}"
PKG="${PKG:-bin/pkg}"
RUNS="${1:-30}"
shift || true
CHARTS=("$@")
if [ ${#CHARTS[@]} -eq 0 ]; then
  CHARTS=(testdata/charts/bigchart testdata/charts/hello)
fi
for bin in "$HELM" "$PKG"; do
  [ -x "$bin" ] || { echo "missing binary: $bin (run make build helm-ref)" >&2; exit 2; }
done

rss_file="$(mktemp "${TMPDIR:-/tmp}/pkg-template-bench.XXXXXX")"
trap 'rm -f "$rss_file"' EXIT

# run_once BIN CHART -> prints "elapsed_ns maxrss_kb". The clock is bash's
# own (EPOCHREALTIME): reading it starts no process, and the peak RSS goes
# to a file, so the timed span holds GNU time and the command alone (two
# `date` processes, a subshell and tail were in it before, about 3 ms
# added to both tools' figures).
run_once() {
  local bin="$1" chart="$2" t0 t1
  t0=${EPOCHREALTIME/[.,]/}
  /usr/bin/time -f '%M' -o "$rss_file" "$bin" template bench "$chart" >/dev/null
  t1=${EPOCHREALTIME/[.,]/}
  echo "$(((t1 - t0) * 1000)) $(tail -n1 "$rss_file")"
}

stats() { # reads "ns rss" lines, prints median ms, mean ms, max rss MiB
  sort -n | awk '{ t[NR]=$1; s+=$1; if ($2>m) m=$2 } END {
    med = (NR%2) ? t[(NR+1)/2] : (t[NR/2]+t[NR/2+1])/2;
    printf "%8.1f %8.1f %8.1f", med/1e6, s/NR/1e6, m/1024 }'
}

printf "%-28s %-5s %8s %8s %8s\n" chart tool "med(ms)" "mean(ms)" "rss(MiB)"
for chart in "${CHARTS[@]}"; do
  # Both must succeed and agree before we time anything.
  if ! diff <("$HELM" template bench "$chart") <("$PKG" template bench "$chart") >/dev/null; then
    echo "note: outputs differ for $chart (random values?)" >&2
  fi
  : > /tmp/bench.helm.$$; : > /tmp/bench.pkg.$$
  for _ in $(seq "$RUNS"); do
    run_once "$HELM" "$chart" >> /tmp/bench.helm.$$
    run_once "$PKG" "$chart" >> /tmp/bench.pkg.$$
  done
  h=$(stats < /tmp/bench.helm.$$); p=$(stats < /tmp/bench.pkg.$$)
  printf "%-28s %-5s %s\n" "$(basename "$chart")" helm "$h"
  printf "%-28s %-5s %s\n" "$(basename "$chart")" pkg "$p"
  awk -v h="$h" -v p="$p" 'BEGIN { split(h,a," "); split(p,b," "); printf "%-28s speed-up (median): %.2fx\n", "", a[1]/b[1] }'
  rm -f /tmp/bench.helm.$$ /tmp/bench.pkg.$$
done
