package version

// BuildInfo describes the Helm build templates see as
// .Capabilities.HelmVersion. The JSON keys are Helm's.
type BuildInfo struct {
	Version      string `json:"version,omitempty"`
	GitCommit    string `json:"git_commit,omitempty"`
	GitTreeState string `json:"git_tree_state,omitempty"`
	GoVersion    string `json:"go_version,omitempty"`
}
