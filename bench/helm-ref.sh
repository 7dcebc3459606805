#!/usr/bin/env bash
# Builds the reference Helm (v3.22.0) exactly as its release binary is built:
# the link flags set its version and the Kubernetes version it assumes
# (v1.37), which a plain `go install` lacks. See ../shared/REFERENCE.md.
# Usage: bench/helm-ref.sh DIR   (installs DIR/helm; skips if already there)
set -euo pipefail
dir="${1:?usage: helm-ref.sh DIR}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
if [ -x "$dir/helm" ] && "$dir/helm" version --short 2>/dev/null | grep -q '^v3.22.0'; then
  exit 0
fi
echo "building reference helm v3.22.0 into $dir" >&2
GOBIN="$dir" GOFLAGS=-buildvcs=false go install -trimpath -ldflags "\
 -X helm.sh/helm/v3/internal/version.version=v3.22.0 \
 -X helm.sh/helm/v3/internal/version.gitTreeState=clean \
 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 \
 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=37 \
 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 \
 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=37" \
 helm.sh/helm/v3/cmd/helm@v3.22.0
"$dir/helm" version
