package lint

import (
	"fmt"
	"strconv"
	"strings"

	"pkg.dev/pkg/render"
)

// release is a Kubernetes minor release such as 1.25.
type release struct{ major, minor int }

// apiLifecycle is one built-in kind whose API version is deprecated.
type apiLifecycle struct {
	group, version, kind string
	deprecated           release
	// removed is the release that no longer serves the kind, or zero.
	removed release
	// replacement is the group, version and kind to use instead, or empty.
	replacement [3]string
}

// defaultKubeMajor and defaultKubeMinor are the Kubernetes release the deprecation rule
// assumes when the caller names none: the one `helm lint` v3.22.0 is
// built for.
const (
	defaultKubeMajor = "1"
	defaultKubeMinor = "37"
)

// groupVersion formats a group and version as an apiVersion field.
func groupVersion(group, version string) string {
	if group == "" {
		return version
	}
	return group + "/" + version
}

// parseAPIVersion splits an apiVersion field into group and version as
// Kubernetes does; ok is false when it has more than one slash.
func parseAPIVersion(s string) (group, version string, ok bool) {
	if s == "" || s == "/" {
		return "", "", true
	}
	switch strings.Count(s, "/") {
	case 0:
		return "", s, true
	case 1:
		i := strings.Index(s, "/")
		return s[:i], s[i+1:], true
	}
	return "", "", false
}

// deprecationChecker finds objects of deprecated built-in kinds.
type deprecationChecker struct {
	kinds []apiLifecycle
	// major and minor are the target Kubernetes release, as text.
	major, minor string
}

func newDeprecationChecker(kv *render.KubeVersion) *deprecationChecker {
	c := &deprecationChecker{kinds: deprecatedKinds(), major: defaultKubeMajor, minor: defaultKubeMinor}
	if kv != nil {
		c.major, c.minor = kv.Major, kv.Minor
	}
	return c
}

// lookup returns the lifecycle of the kind, or nil when the kind is not a
// deprecated built-in one.
func (c *deprecationChecker) lookup(apiVersion, kind string) *apiLifecycle {
	group, version, ok := parseAPIVersion(apiVersion)
	if !ok {
		group, version = "", ""
	}
	for i := range c.kinds {
		e := &c.kinds[i]
		if e.group == group && e.version == version && e.kind == kind {
			return e
		}
	}
	return nil
}

// check returns a finding when obj uses an API version that is deprecated
// in the target release, worded as the Kubernetes API server warns.
func (c *deprecationChecker) check(obj *K8sYamlStruct) error {
	if obj.APIVersion == "" || obj.Kind == "" {
		return nil
	}
	e := c.lookup(obj.APIVersion, obj.Kind)
	if e == nil {
		return nil
	}
	major, err := strconv.Atoi(c.major)
	if err != nil {
		return err
	}
	minor, err := strconv.Atoi(c.minor)
	if err != nil {
		return err
	}
	if !e.deprecatedIn(release{major, minor}) {
		return nil
	}
	return &DeprecatedAPIError{APIVersion: obj.APIVersion, Kind: obj.Kind, Message: e.warning()}
}

// deprecatedIn reports whether the kind is deprecated in release r. A
// zero release stands for "unknown", in which every deprecation applies.
func (e *apiLifecycle) deprecatedIn(r release) bool {
	if r == (release{}) {
		return true
	}
	d := e.deprecated
	return d.major < r.major || (d.major == r.major && d.minor <= r.minor)
}

// warning words the deprecation as the Kubernetes API server does.
func (e *apiLifecycle) warning() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s is deprecated in v%d.%d+", groupVersion(e.group, e.version), e.kind, e.deprecated.major, e.deprecated.minor)
	if e.removed != (release{}) {
		fmt.Fprintf(&b, ", unavailable in v%d.%d+", e.removed.major, e.removed.minor)
	}
	if e.replacement != ([3]string{}) {
		fmt.Fprintf(&b, "; use %s %s", groupVersion(e.replacement[0], e.replacement[1]), e.replacement[2])
	}
	return b.String()
}

// DeprecatedAPIError is the finding for an object whose API version is
// deprecated in the target Kubernetes release.
type DeprecatedAPIError struct {
	// APIVersion and Kind are as the object wrote them.
	APIVersion, Kind string
	// Message is the Kubernetes deprecation warning.
	Message string
}

// Error returns the Kubernetes deprecation warning.
func (e *DeprecatedAPIError) Error() string { return e.Message }
