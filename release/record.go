package release

import (
	"pkg.dev/pkg/chart"
	"pkg.dev/pkg/render"
)

// Status is the state of one revision, named as Helm names it.
type Status string

// The statuses a revision goes through.
const (
	StatusUnknown         Status = "unknown"
	StatusDeployed        Status = "deployed"
	StatusUninstalled     Status = "uninstalled"
	StatusSuperseded      Status = "superseded"
	StatusFailed          Status = "failed"
	StatusUninstalling    Status = "uninstalling"
	StatusPendingInstall  Status = "pending-install"
	StatusPendingUpgrade  Status = "pending-upgrade"
	StatusPendingRollback Status = "pending-rollback"
)

// String returns the status's name.
func (s Status) String() string { return string(s) }

// IsPending tells whether an operation was in progress on the revision.
func (s Status) IsPending() bool {
	return s == StatusPendingInstall || s == StatusPendingUpgrade || s == StatusPendingRollback
}

// Time is a timestamp encoded as Helm's records encode it: the zero time is
// "" and any other time is RFC 3339 with nanoseconds.
type Time = render.HookTime

// Release is one revision of a release: the record Helm 3 stores, with the
// same JSON form, so that the two read each other's history.
type Release struct {
	// Name is the release's name.
	Name string `json:"name,omitempty"`
	// Info is the revision's state and timestamps.
	Info *Info `json:"info,omitempty"`
	// Chart is the chart that was released (without its subcharts, as
	// Helm stores it).
	Chart *Chart `json:"chart,omitempty"`
	// Config are the values the user supplied (-f, --set*).
	Config map[string]any `json:"config,omitempty"`
	// Manifest is the rendered manifest of the non-hook resources.
	Manifest string `json:"manifest,omitempty"`
	// Hooks are the chart's hooks with their last executions.
	Hooks []*render.Hook `json:"hooks,omitempty"`
	// Version is the revision number, from 1.
	Version int `json:"version,omitempty"`
	// Namespace is the namespace the release belongs to.
	Namespace string `json:"namespace,omitempty"`
	// Labels are the user's labels of the release (--labels); they live in
	// the storage object's labels, not in the record.
	Labels map[string]string `json:"-"`
}

// Info is the state of a revision.
type Info struct {
	FirstDeployed Time   `json:"first_deployed,omitempty"`
	LastDeployed  Time   `json:"last_deployed,omitempty"`
	Deleted       Time   `json:"deleted"`
	Description   string `json:"description,omitempty"`
	Status        Status `json:"status,omitempty"`
	Notes         string `json:"notes,omitempty"`
}

// Chart is a chart as a release record holds it, in Helm's JSON form.
type Chart struct {
	Metadata  *chart.Metadata `json:"metadata"`
	Lock      *chart.Lock     `json:"lock"`
	Templates []*File         `json:"templates"`
	Values    map[string]any  `json:"values"`
	Schema    []byte          `json:"schema"`
	Files     []*File         `json:"files"`
}

// File is a file of a stored chart.
type File struct {
	Name string `json:"name"`
	Data []byte `json:"data"`
}

// StoredChart converts a loaded chart to its stored form.
func StoredChart(c *chart.Chart) *Chart {
	conv := func(in []*chart.File) []*File {
		out := make([]*File, len(in))
		for i, f := range in {
			out[i] = &File{Name: f.Name, Data: f.Data}
		}
		return out
	}
	return &Chart{
		Metadata:  c.Metadata,
		Lock:      c.Lock,
		Templates: conv(c.Templates),
		Values:    c.Values,
		Schema:    c.Schema,
		Files:     conv(c.Files),
	}
}

// Loaded converts a stored chart back to a chart the renderer takes. Its
// subcharts are gone: Helm does not store them either.
func (c *Chart) Loaded() *chart.Chart {
	conv := func(in []*File) []*chart.File {
		out := make([]*chart.File, len(in))
		for i, f := range in {
			out[i] = &chart.File{Name: f.Name, Data: f.Data}
		}
		return out
	}
	return &chart.Chart{
		Metadata:  c.Metadata,
		Lock:      c.Lock,
		Templates: conv(c.Templates),
		Values:    c.Values,
		Schema:    c.Schema,
		Files:     conv(c.Files),
	}
}

// ChartName returns "NAME-VERSION" as `helm list` prints it, or "" when
// the record has no chart.
func (r *Release) ChartName() string {
	if r.Chart == nil || r.Chart.Metadata == nil {
		return ""
	}
	return r.Chart.Metadata.Name + "-" + r.Chart.Metadata.Version
}

// AppVersion returns the chart's appVersion, or "".
func (r *Release) AppVersion() string {
	if r.Chart == nil || r.Chart.Metadata == nil {
		return ""
	}
	return r.Chart.Metadata.AppVersion
}
