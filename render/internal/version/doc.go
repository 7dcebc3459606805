// Package version holds BuildInfo, what templates see as
// .Capabilities.HelmVersion. It is named after Helm's package of the same
// type so that the type prints as "version.BuildInfo", as under Helm.
package version
