package render

import (
	"bytes"
	"cmp"
	"slices"
	"strings"
	"time"
)

// Annotations that make a manifest a hook and tune how it runs.
const (
	// HookAnnotation lists, comma separated, the events a hook runs on.
	HookAnnotation = "helm.sh/hook"
	// HookWeightAnnotation orders hooks of one event; an integer, 0 when
	// absent or not an integer.
	HookWeightAnnotation = "helm.sh/hook-weight"
	// HookDeleteAnnotation lists, comma separated, when to delete the hook.
	HookDeleteAnnotation = "helm.sh/hook-delete-policy"
	// HookOutputLogAnnotation lists, comma separated, when to copy the logs
	// of a hook Pod or Job back to the user.
	HookOutputLogAnnotation = "helm.sh/hook-output-log-policy"
)

// HookEvent names a point in a release's life at which hooks run.
type HookEvent string

// The hook events, spelled as in the helm.sh/hook annotation.
const (
	HookPreInstall   HookEvent = "pre-install"
	HookPostInstall  HookEvent = "post-install"
	HookPreDelete    HookEvent = "pre-delete"
	HookPostDelete   HookEvent = "post-delete"
	HookPreUpgrade   HookEvent = "pre-upgrade"
	HookPostUpgrade  HookEvent = "post-upgrade"
	HookPreRollback  HookEvent = "pre-rollback"
	HookPostRollback HookEvent = "post-rollback"
	HookTest         HookEvent = "test"
)

// String returns the event's annotation spelling.
func (e HookEvent) String() string { return string(e) }

// hookEventNamed returns the event that name stands for in a helm.sh/hook
// annotation, already trimmed and lower-cased. "test-success", the Helm 2
// name of test hooks, stands for HookTest.
func hookEventNamed(name string) (HookEvent, bool) {
	switch e := HookEvent(name); e {
	case HookPreInstall, HookPostInstall, HookPreDelete, HookPostDelete,
		HookPreUpgrade, HookPostUpgrade, HookPreRollback, HookPostRollback,
		HookTest:
		return e, true
	case "test-success":
		return HookTest, true
	}
	return "", false
}

// HookDeletePolicy says when a hook's resource is deleted.
type HookDeletePolicy string

// The delete policies Helm acts on. Other values of the annotation are kept
// as written (trimmed and lower-cased) and ignored when hooks run.
const (
	HookSucceeded          HookDeletePolicy = "hook-succeeded"
	HookFailed             HookDeletePolicy = "hook-failed"
	HookBeforeHookCreation HookDeletePolicy = "before-hook-creation"
)

// String returns the policy's annotation spelling.
func (p HookDeletePolicy) String() string { return string(p) }

// HookOutputLogPolicy says when the logs of a hook Pod or Job are shown.
type HookOutputLogPolicy string

// The output log policies Helm acts on.
const (
	HookOutputOnSucceeded HookOutputLogPolicy = "hook-succeeded"
	HookOutputOnFailed    HookOutputLogPolicy = "hook-failed"
)

// String returns the policy's annotation spelling.
func (p HookOutputLogPolicy) String() string { return string(p) }

// Hook is a manifest that runs at release events instead of being installed
// with the others. Its JSON form is that of Helm's release.Hook, so hooks
// stored in a release record read the same in Helm and here.
type Hook struct {
	// Name is the resource's metadata.name.
	Name string `json:"name,omitempty"`
	// Kind is the resource's Kubernetes kind.
	Kind string `json:"kind,omitempty"`
	// Path is the template the hook came from, relative to the charts root
	// ("mychart/templates/job.yaml").
	Path string `json:"path,omitempty"`
	// Manifest is the hook's YAML document.
	Manifest string `json:"manifest,omitempty"`
	// Events are the events the hook runs on.
	Events []HookEvent `json:"events,omitempty"`
	// LastRun records the hook's latest execution.
	LastRun HookExecution `json:"last_run,omitempty"`
	// Weight orders hooks of one event, lowest first.
	Weight int `json:"weight,omitempty"`
	// DeletePolicies say when to delete the hook's resource.
	DeletePolicies []HookDeletePolicy `json:"delete_policies,omitempty"`
	// OutputLogPolicies say when to show the logs of a hook Pod or Job.
	OutputLogPolicies []HookOutputLogPolicy `json:"output_log_policies,omitempty"`
}

// HookExecution records one execution of a hook.
type HookExecution struct {
	// StartedAt is when the hook was applied.
	StartedAt HookTime `json:"started_at,omitempty"`
	// CompletedAt is when it finished.
	CompletedAt HookTime `json:"completed_at,omitempty"`
	// Phase is how far it got.
	Phase HookPhase `json:"phase"`
}

// HookPhase is the state of a hook execution.
type HookPhase string

// The hook phases.
const (
	HookPhaseUnknown   HookPhase = "Unknown"
	HookPhaseRunning   HookPhase = "Running"
	HookPhaseSucceeded HookPhase = "Succeeded"
	HookPhaseFailed    HookPhase = "Failed"
)

// String returns the phase's name.
func (p HookPhase) String() string { return string(p) }

// HookTime is a time that encodes to JSON as Helm's records do: the zero
// time is the empty string "" (not "0001-01-01T00:00:00Z"), and both "" and
// null decode to the zero time.
type HookTime struct {
	time.Time
}

// MarshalJSON encodes the zero time as "" and any other as RFC 3339.
func (t HookTime) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte(`""`), nil
	}
	return t.Time.MarshalJSON()
}

// UnmarshalJSON decodes "" and null as the zero time and any other value as
// time.Time does.
func (t *HookTime) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) || bytes.Equal(b, []byte(`""`)) {
		return nil
	}
	return t.Time.UnmarshalJSON(b)
}

// SortHooksByWeight orders hooks, in place, the way Helm runs the hooks of
// one event: by weight, then by name, keeping the given order (SortManifests
// returns hooks ordered by kind) among hooks equal in both.
func SortHooksByWeight(hooks []*Hook) {
	slices.SortStableFunc(hooks, func(a, b *Hook) int {
		if c := cmp.Compare(a.Weight, b.Weight); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
}
