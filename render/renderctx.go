package render

import (
	"fmt"

	"github.com/Masterminds/semver/v3"

	"pkg.dev/pkg/chart"
)

// ReleaseOptions describe the release a chart is rendered for: what
// templates see as .Release.
type ReleaseOptions struct {
	Name      string
	Namespace string
	Revision  int
	IsUpgrade bool
	IsInstall bool
}

// KubeVersionError reports a chart whose kubeVersion constraint the target
// Kubernetes version does not meet (or that is not a valid constraint).
type KubeVersionError struct {
	// Chart is the chart's name.
	Chart string
	// Constraint is the chart's kubeVersion, such as ">=1.19.0-0".
	Constraint string
	// KubeVersion is the target version, such as "v1.37.0".
	KubeVersion string
}

// Error returns Helm's message for the same failure.
func (e *KubeVersionError) Error() string {
	return fmt.Sprintf("chart requires kubeVersion: %s which is incompatible with Kubernetes %s", e.Constraint, e.KubeVersion)
}

// CheckKubeVersion reports, as a *KubeVersionError, a chart whose
// kubeVersion constraint caps.KubeVersion does not satisfy (nil caps means
// DefaultCapabilities()). Helm checks it before rendering an install or a
// template; lint does not.
func CheckKubeVersion(c *chart.Chart, caps *Capabilities) error {
	if caps == nil {
		caps = DefaultCapabilities()
	}
	if c == nil || c.Metadata == nil || c.Metadata.KubeVersion == "" {
		return nil
	}
	if kubeVersionSatisfies(c.Metadata.KubeVersion, caps.KubeVersion.String()) {
		return nil
	}
	return &KubeVersionError{
		Chart:       c.Metadata.Name,
		Constraint:  c.Metadata.KubeVersion,
		KubeVersion: caps.KubeVersion.String(),
	}
}

// RenderValues builds the top-level values of a render, as Helm's
// chartutil.ToRenderValues does: .Chart (c's metadata), .Capabilities,
// .Release (with Service "Helm") and .Values, which are vals as given —
// coalesced and validated already — typed as Values. Engine.Render adds
// .Files, .Subcharts and .Template per chart and template. caps nil means
// DefaultCapabilities(). It does not check the chart's kubeVersion: see
// CheckKubeVersion.
func RenderValues(c *chart.Chart, vals map[string]any, rel ReleaseOptions, caps *Capabilities) (map[string]any, error) {
	if caps == nil {
		caps = DefaultCapabilities()
	}
	if vals == nil {
		vals = map[string]any{}
	}
	var meta *chart.Metadata
	if c != nil {
		meta = c.Metadata
	}
	return map[string]any{
		"Chart":        meta,
		"Capabilities": caps,
		"Release": map[string]any{
			"Name":      rel.Name,
			"Namespace": rel.Namespace,
			"IsUpgrade": rel.IsUpgrade,
			"IsInstall": rel.IsInstall,
			"Revision":  rel.Revision,
			"Service":   "Helm",
		},
		"Values": Values(vals),
	}, nil
}

// kubeVersionSatisfies reports whether version meets constraint; an
// invalid version or constraint does not.
func kubeVersionSatisfies(constraint, version string) bool {
	v, err := semver.NewVersion(version)
	if err != nil {
		return false
	}
	c, err := semver.NewConstraint(constraint)
	if err != nil {
		return false
	}
	return c.Check(v)
}
