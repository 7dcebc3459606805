package render

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"pkg.dev/pkg/render/internal/chartutil"
	"pkg.dev/pkg/render/internal/version"
)

// The Kubernetes and Helm versions templates see when no cluster is asked:
// those of Helm v3.22.0's release binary.
const (
	defaultKubeMajor     = "1"
	defaultKubeMinor     = "37"
	defaultHelmVersion   = "v3.22.0"
	defaultHelmTreeState = "clean"
)

// Capabilities is what templates see as .Capabilities: the Kubernetes
// version and API versions of the target cluster and the version of Helm
// being emulated. Field names, methods, JSON keys and Go type names are
// Helm's (the types live in internal packages named as Helm's are), so
// templates reading, printing or encoding them behave as under Helm.
type Capabilities = chartutil.Capabilities

// KubeVersion is a Kubernetes version as templates see it:
// .Capabilities.KubeVersion.Version ("v1.37.0"), .Major ("1"), .Minor.
type KubeVersion = chartutil.KubeVersion

// VersionSet is a list of API versions ("apps/v1") and, when discovered
// from a cluster, resources ("apps/v1/Deployment").
type VersionSet = chartutil.VersionSet

// HelmVersion describes the Helm build templates see as
// .Capabilities.HelmVersion.
type HelmVersion = version.BuildInfo

// DefaultCapabilities returns a new Capabilities as Helm v3.22.0's release
// binary assumes them without a cluster: Kubernetes v1.37.0, the API
// versions compiled into Helm, and Helm v3.22.0 built by this Go toolchain.
func DefaultCapabilities() *Capabilities {
	return &Capabilities{
		KubeVersion: KubeVersion{
			Version: "v" + defaultKubeMajor + "." + defaultKubeMinor + ".0",
			Major:   defaultKubeMajor,
			Minor:   defaultKubeMinor,
		},
		APIVersions: DefaultAPIVersions(),
		HelmVersion: HelmVersion{
			Version:      defaultHelmVersion,
			GitTreeState: defaultHelmTreeState,
			GoVersion:    runtime.Version(),
		},
	}
}

// ParseKubeVersion parses a Kubernetes version as `--kube-version` takes
// it and as Helm reads it: optional leading white space and "v", then two
// or more dot-separated decimal numbers (the first without leading zeros),
// then anything but a newline, which is ignored. "1.30" gives v1.30,
// "v1.30.2-eks+abc" gives v1.30.2. Error texts are Helm's.
func ParseKubeVersion(version string) (*KubeVersion, error) {
	numbers, ok := splitKubeVersion(version)
	if !ok {
		return nil, fmt.Errorf("could not parse %q as version", version)
	}
	parts := strings.Split(numbers, ".")
	if len(parts) < 2 {
		return nil, fmt.Errorf("illegal version string %q", version)
	}
	nums := make([]string, len(parts))
	for i, p := range parts {
		if i == 0 && len(p) > 1 && p[0] == '0' {
			return nil, fmt.Errorf("illegal zero-prefixed version component %q in %q", p, version)
		}
		n, err := strconv.ParseUint(p, 10, 0)
		if err != nil {
			return nil, fmt.Errorf("illegal non-numeric version component %q in %q: %v", p, version, err)
		}
		nums[i] = strconv.FormatUint(n, 10)
	}
	return &KubeVersion{
		Version: "v" + strings.Join(nums, "."),
		Major:   nums[0],
		Minor:   nums[1],
	}, nil
}

// splitKubeVersion returns the leading run of dot-separated numbers of a
// version string, after optional white space and "v". It fails when no
// number follows or when the rest of the string holds a newline.
func splitKubeVersion(s string) (string, bool) {
	i := 0
	for i < len(s) && strings.IndexByte("\t\n\f\r ", s[i]) >= 0 {
		i++
	}
	if i < len(s) && s[i] == 'v' {
		i++
	}
	start := i
	for i < len(s) && isVersionDigit(s[i]) {
		i++
	}
	if i == start {
		return "", false
	}
	// Further components need a dot followed by at least one digit.
	for i+1 < len(s) && s[i] == '.' && isVersionDigit(s[i+1]) {
		i++
		for i < len(s) && isVersionDigit(s[i]) {
			i++
		}
	}
	if strings.IndexByte(s[i:], '\n') >= 0 {
		return "", false
	}
	return s[start:i], true
}

func isVersionDigit(b byte) bool { return '0' <= b && b <= '9' }
