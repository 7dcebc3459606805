// Package release installs, upgrades, rolls back and uninstalls charts as
// Helm 3 does, and keeps their history in Helm's own storage format, so that
// `helm` and `pkg` read and drive each other's releases.
//
// The package talks to a cluster only through the Kubernetes API: a Target
// applies resources (package release/kube is the client-go
// implementation), and a Driver stores release records (Secrets,
// ConfigMaps, or memory for tests). The bundled orchestrator and a real
// cluster are driven by the same code.
//
// The actions are small structs holding only what they use: an Installer,
// Upgrader, RollBacker and Uninstaller each take a *Storage, a Target and a
// clock, and return the release record they wrote.
package release
