// Package chart holds the chart model: a chart's metadata (Chart.yaml), its
// default values, schema, templates, CRDs, other files and subcharts, and the
// code that loads charts from directories and archives, validates them,
// packages them and scaffolds new ones.
//
// It imports nothing of this module: render, repo and release build on it.
// Archives are treated as untrusted input: entries that escape the chart,
// links, oversized files and malformed gzip or tar streams are refused with
// an error naming the entry.
package chart
