#!/usr/bin/env bash
# Builds Helm v4.3.1 as ../shared/REFERENCE.md shows (its version set by
# link flags; it takes Kubernetes v1.37 from its build information), for the
# tests that prove Helm v4 (server-side apply, watch-based wait) works
# against the bundled orchestrator.
# Usage: bench/helm-v4.sh DIR   (installs DIR/helm; skips if already there)
set -euo pipefail
dir="${1:?usage: helm-v4.sh DIR}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
if [ -x "$dir/helm" ] && "$dir/helm" version --short 2>/dev/null | grep -q '^v4.3.1'; then
  exit 0
fi
echo "building helm v4.3.1 into $dir" >&2
GOBIN="$dir" GOFLAGS=-buildvcs=false go install -trimpath -ldflags "\
 -X helm.sh/helm/v4/internal/version.version=v4.3.1 \
 -X helm.sh/helm/v4/internal/version.gitTreeState=clean" \
 helm.sh/helm/v4/cmd/helm@v4.3.1
"$dir/helm" version
