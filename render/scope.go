package render

import (
	"pkg.dev/pkg/chart"
	"pkg.dev/pkg/render/internal/engine"
)

// chartScopes builds, for one render, the value each chart's templates get
// as "." — Helm's layout, types included, since templates can observe them
// (typeOf, method calls such as .Values.AsMap, dig's type assertions):
//
//	.Chart         struct{ chart.Metadata; IsRoot bool }, a copy
//	.Capabilities  as given in top
//	.Release       as given in top
//	.Values        the chart's part of the values, a Values
//	.Files         the chart's files
//	.Subcharts     each subchart's own "." by chart name, as plain maps
//	.Template      set per template just before it runs
//
// "." itself is a Values. The root chart gets top["Values"] unchanged; a
// subchart the table named after it in its parent's values, or an empty
// Values when there is none. The maps are new for every render; templates
// can write to them (set), and a chart's templates share its map, as in
// Helm.
func (ct *chartTemplates) chartScopes(charts []*chart.Chart, top map[string]any) []Values {
	scopes := make([]Values, len(ct.nodes))
	ct.buildScope(charts, 0, top, scopes)
	return scopes
}

// buildScope builds the scope of node i (whose chart is charts[i]) and its
// subtree from the scope of its parent (top for the first chart) and
// returns it.
func (ct *chartTemplates) buildScope(charts []*chart.Chart, i int, parent map[string]any, scopes []Values) map[string]any {
	c := charts[i]
	subcharts := make(map[string]any, len(ct.nodes[i].children))
	scope := map[string]any{
		"Chart": struct {
			chart.Metadata
			IsRoot bool
		}{*c.Metadata, c.IsRoot()},
		"Files":        engine.NewFiles(c.Files),
		"Release":      parent["Release"],
		"Capabilities": parent["Capabilities"],
		"Values":       Values{},
		"Subcharts":    subcharts,
	}
	if c.IsRoot() {
		scope["Values"] = parent["Values"]
	} else if vals, err := Values(parent).Table("Values." + c.Name()); err == nil {
		scope["Values"] = vals
	}
	for _, child := range ct.nodes[i].children {
		subcharts[charts[child].Name()] = ct.buildScope(charts, child, scope, scopes)
	}
	scopes[i] = scope
	return scope
}
