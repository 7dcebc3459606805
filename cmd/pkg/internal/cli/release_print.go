package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"pkg.dev/pkg/release"
	"pkg.dev/pkg/render"
)

// statusView prints a release as `helm status` (and install, upgrade)
// print it.
type statusView struct {
	rel             *release.Release
	debug           bool
	showDescription bool
	showMetadata    bool
	hideNotes       bool
	// resources is printed under RESOURCES: (--show-resources).
	resources string
}

func (s statusView) write(out io.Writer, format outputFormat) error {
	if format != outputTable {
		return writeStructured(out, format, s.rel)
	}
	r := s.rel
	if r == nil {
		return nil
	}
	fmt.Fprintf(out, "NAME: %s\n", r.Name)
	if !r.Info.LastDeployed.IsZero() {
		fmt.Fprintf(out, "LAST DEPLOYED: %s\n", r.Info.LastDeployed.Format(time.ANSIC))
	}
	fmt.Fprintf(out, "NAMESPACE: %s\n", r.Namespace)
	fmt.Fprintf(out, "STATUS: %s\n", r.Info.Status)
	fmt.Fprintf(out, "REVISION: %d\n", r.Version)
	if s.showMetadata && r.Chart != nil && r.Chart.Metadata != nil {
		fmt.Fprintf(out, "CHART: %s\n", r.Chart.Metadata.Name)
		fmt.Fprintf(out, "VERSION: %s\n", r.Chart.Metadata.Version)
		fmt.Fprintf(out, "APP_VERSION: %s\n", r.Chart.Metadata.AppVersion)
	}
	if s.showDescription {
		fmt.Fprintf(out, "DESCRIPTION: %s\n", r.Info.Description)
	}
	if s.resources != "" {
		fmt.Fprintf(out, "RESOURCES:\n%s\n", s.resources)
	}
	var tests []*render.Hook
	for _, h := range r.Hooks {
		for _, e := range h.Events {
			if e == render.HookTest {
				tests = append(tests, h)
			}
		}
	}
	if len(tests) == 0 {
		fmt.Fprintln(out, "TEST SUITE: None")
	}
	for _, h := range tests {
		if h.LastRun.StartedAt.IsZero() {
			continue
		}
		fmt.Fprintf(out, "TEST SUITE:     %s\nLast Started:   %s\nLast Completed: %s\nPhase:          %s\n",
			h.Name, h.LastRun.StartedAt.Format(time.ANSIC), h.LastRun.CompletedAt.Format(time.ANSIC), h.LastRun.Phase)
	}
	if s.debug {
		fmt.Fprintln(out, "USER-SUPPLIED VALUES:")
		if err := writeYAML(out, r.Config); err != nil {
			return err
		}
		fmt.Fprintln(out)
		var computed map[string]any
		if r.Chart != nil {
			vals, err := render.CoalesceValues(r.Chart.Loaded(), r.Config)
			if err != nil {
				return err
			}
			computed = vals
		}
		fmt.Fprintln(out, "COMPUTED VALUES:")
		if err := writeYAML(out, computed); err != nil {
			return err
		}
		fmt.Fprintln(out)
	}
	if strings.EqualFold(r.Info.Description, "Dry run complete") || s.debug {
		fmt.Fprintln(out, "HOOKS:")
		for _, h := range r.Hooks {
			fmt.Fprintf(out, "---\n# Source: %s\n%s\n", h.Path, h.Manifest)
		}
		fmt.Fprintf(out, "MANIFEST:\n%s\n", r.Manifest)
	}
	if !s.hideNotes && r.Info.Notes != "" {
		fmt.Fprintf(out, "NOTES:\n%s\n", strings.TrimSpace(r.Info.Notes))
	}
	return nil
}

// writeYAML prints v as Helm's output.EncodeYAML does.
func writeYAML(out io.Writer, v any) error {
	b, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Errorf("unable to write YAML output: %w", err)
	}
	_, err = out.Write(b)
	return err
}

// listElement is one row of `list -o json|yaml`.
type listElement struct {
	Name       string `json:"name"`
	Namespace  string `json:"namespace"`
	Revision   string `json:"revision"`
	Updated    string `json:"updated"`
	Status     string `json:"status"`
	Chart      string `json:"chart"`
	AppVersion string `json:"app_version"`
}

func chartName(r *release.Release) string {
	if n := r.ChartName(); n != "" {
		return n
	}
	return "MISSING"
}

func appVersion(r *release.Release) string {
	if r.Chart == nil || r.Chart.Metadata == nil {
		return "MISSING"
	}
	return r.AppVersion()
}

func listElements(rels []*release.Release, timeFormat string) []listElement {
	out := make([]listElement, 0, len(rels))
	for _, r := range rels {
		updated := "-"
		if t := r.Info.LastDeployed; !t.IsZero() {
			if timeFormat != "" {
				updated = t.Format(timeFormat)
			} else {
				updated = t.Time.String()
			}
		}
		out = append(out, listElement{
			Name: r.Name, Namespace: r.Namespace, Revision: strconv.Itoa(r.Version), Updated: updated,
			Status: r.Info.Status.String(), Chart: chartName(r), AppVersion: appVersion(r),
		})
	}
	return out
}

// historyElement is one row of `history -o json|yaml`.
type historyElement struct {
	Revision    int          `json:"revision"`
	Updated     release.Time `json:"updated"`
	Status      string       `json:"status"`
	Chart       string       `json:"chart"`
	AppVersion  string       `json:"app_version"`
	Description string       `json:"description"`
}

func historyElements(rels []*release.Release) []historyElement {
	out := make([]historyElement, 0, len(rels))
	for _, r := range rels {
		out = append(out, historyElement{
			Revision: r.Version, Updated: r.Info.LastDeployed, Status: r.Info.Status.String(),
			Chart: chartName(r), AppVersion: appVersion(r), Description: r.Info.Description,
		})
	}
	return out
}
