package render

import (
	"strings"
	"testing"

	helmchart "helm.sh/helm/v3/pkg/chart"
	"sigs.k8s.io/yaml"
)

// engHelmChart builds a Helm chart in code: files maps paths ("templates/x.yaml",
// "values.yaml" for default values, anything else as a plain file) to
// contents.
func engHelmChart(name string, files map[string]string, subs ...*helmchart.Chart) *helmchart.Chart {
	c := &helmchart.Chart{Metadata: &helmchart.Metadata{Name: name, Version: "0.1.0", APIVersion: "v2", AppVersion: "1.2.3"}}
	for p, data := range files {
		switch {
		case p == "values.yaml":
			if err := yaml.Unmarshal([]byte(data), &c.Values); err != nil {
				panic(err)
			}
		case strings.HasPrefix(p, "templates/"):
			c.Templates = append(c.Templates, &helmchart.File{Name: p, Data: []byte(data)})
		default:
			c.Files = append(c.Files, &helmchart.File{Name: p, Data: []byte(data)})
		}
	}
	c.AddDependency(subs...)
	return c
}

// engWithMeta edits a chart's metadata and returns the chart.
func engWithMeta(c *helmchart.Chart, edit func(*helmchart.Metadata)) *helmchart.Chart {
	edit(c.Metadata)
	return c
}

// engCase is a chart built in code, rendered by both engines.
type engCase struct {
	name   string
	chart  func() *helmchart.Chart
	values string // overrides, YAML
	// raw makes values the .Values given to both engines as they are,
	// without coalescing them with the chart's.
	raw    bool
	modes  []engOptions
	random bool
}

func engRunCases(t *testing.T, cases []engCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			modes := tc.modes
			if modes == nil {
				modes = []engOptions{{}, {strict: true}, {lint: true}}
			}
			for _, o := range modes {
				t.Run(o.String(), func(t *testing.T) {
					overrides := map[string]any{}
					if err := yaml.Unmarshal([]byte(tc.values), &overrides); err != nil {
						t.Fatal(err)
					}
					// Each side gets its own chart: templates may not
					// share anything.
					merged := overrides
					if tc.raw {
						merged = map[string]any{}
					}
					hp, err := engProcessPair(tc.chart(), merged)
					if err != nil {
						t.Fatal(err)
					}
					op, err := engProcessPair(tc.chart(), merged)
					if err != nil {
						t.Fatal(err)
					}
					if tc.raw {
						hp.vals, op.vals = overrides, overrides
					}
					want, wantErr := hp.renderHelm(o)
					got, gotErr := op.renderOurs(o.engine())
					engCompare(t, want, wantErr, got, gotErr, tc.random)
				})
			}
		})
	}
}

// TestRenderFeaturesLikeHelm covers the engine's scoping, ordering,
// partials, include, tpl and the top-level objects against Helm.
func TestRenderFeaturesLikeHelm(t *testing.T) {
	t.Parallel()
	engRunCases(t, []engCase{
		{
			name: "scoping and subcharts",
			chart: func() *helmchart.Chart {
				leaf := engHelmChart("leaf", map[string]string{
					"values.yaml":          "color: green\n",
					"templates/leaf.yaml":  "leaf: {{ .Values.color }} {{ .Values.global.region }} {{ .Chart.Name }} {{ .Chart.IsRoot }} {{ .Template.Name }} {{ .Template.BasePath }}\n",
					"templates/NOTES.txt":  "leaf notes {{ .Release.Name }}",
					"templates/_tiny.tpl":  `{{ define "tiny" }}leaf-tiny{{ end }}`,
					"templates/sub/x.yaml": "nested: {{ .Template.Name }}",
				})
				mid := engHelmChart("mid", map[string]string{
					"values.yaml":         "leaf:\n  color: blue\nsize: 3\n",
					"templates/mid.yaml":  "mid: {{ .Values.size }} {{ .Values.leaf.color }} {{ .Subcharts.leaf.Values.color }} {{ .Subcharts.leaf.Template.Name }} {{ include \"tiny\" . }}",
					"templates/NOTES.txt": "mid notes",
				}, leaf)
				return engHelmChart("top", map[string]string{
					"values.yaml":         "global:\n  region: eu\nmid:\n  size: 5\n",
					"templates/top.yaml":  "top: {{ .Values.mid.size }} {{ .Subcharts.mid.Subcharts.leaf.Values.color }} {{ .Release.Name }} {{ .Release.Namespace }} {{ .Release.Revision }} {{ .Release.IsInstall }} {{ .Release.IsUpgrade }} {{ .Release.Service }}\n{{ include \"tiny\" . }}",
					"templates/NOTES.txt": "top notes {{ .Chart.AppVersion }}",
					"templates/_tiny.tpl": `{{ define "tiny" }}top-tiny{{ end }}`,
				}, mid)
			},
			values: "mid:\n  leaf:\n    color: red\n",
		},
		{
			name: "definition order",
			chart: func() *helmchart.Chart {
				sub := engHelmChart("sub", map[string]string{
					"templates/a.yaml":      `{{ define "x" }}sub-a{{ end }}{{ define "y" }}sub-y{{ end }}sub-a: {{ include "x" . }} {{ include "y" . }} {{ include "z" . }}`,
					"templates/deep/b.yaml": `{{ define "z" }}deep-z{{ end }}`,
				})
				return engHelmChart("top", map[string]string{
					"templates/a.yaml":   `{{ define "x" }}top-a{{ end }}a: {{ include "x" . }} {{ include "y" . }}`,
					"templates/b.yaml":   `{{ define "x" }}top-b{{ end }}{{ define "y" }}{{ end }}b: {{ include "x" . }}`,
					"templates/c/d.yaml": `{{ define "z" }}top-cd{{ end }}d: {{ include "z" . }}`,
				}, sub)
			},
		},
		{
			name: "scope mutation is shared within a chart",
			chart: func() *helmchart.Chart {
				return engHelmChart("m", map[string]string{
					"values.yaml":      "list: [1, 2]\n",
					"templates/a.yaml": `{{ $_ := set . "shared" "from-a" }}{{ $_ := set .Values "added" "yes" }}a`,
					"templates/b.yaml": `b: {{ .shared }} {{ .Values.added }} {{ .Values.list }}`,
				})
			},
			modes: []engOptions{{}},
		},
		{
			name: "values that are not maps",
			chart: func() *helmchart.Chart {
				sub := engHelmChart("sub", map[string]string{"templates/s.yaml": `s: {{ .Values }} {{ .Values.x }}`})
				return engHelmChart("top", map[string]string{"templates/t.yaml": `t: {{ .Values.sub }}`}, sub)
			},
			values: "sub: 3\n",
			raw:    true,
			modes:  []engOptions{{}},
		},
		{
			name: "library charts and partials",
			chart: func() *helmchart.Chart {
				lib := engWithMeta(engHelmChart("lib", map[string]string{
					"templates/_h.tpl":     `{{ define "lib.h" }}lib {{ .Chart.Name }}{{ end }}`,
					"templates/cm.yaml":    "not rendered",
					"templates/NOTES.txt":  "lib notes",
					"templates/_skip.yaml": "{{ fail \"never\" }}",
				}), func(m *helmchart.Metadata) { m.Type = "Library" })
				return engHelmChart("app", map[string]string{
					"templates/x.yaml": `x: {{ include "lib.h" . }}`,
				}, lib)
			},
		},
		{
			name: "include and its recursion bound",
			chart: func() *helmchart.Chart {
				return engHelmChart("inc", map[string]string{
					"templates/_h.tpl": `{{ define "count" }}{{ if gt (int .n) 0 }}{{ .n }} {{ include "count" (dict "n" (sub (int .n) 1)) }}{{ end }}{{ end }}` +
						`{{ define "deep" }}{{ if lt (int .n) 1000 }}{{ include "deep" (dict "n" (add (int .n) 1)) }}{{ else }}bottom {{ .n }}{{ end }}{{ end }}`,
					"templates/a.yaml": `{{ include "count" (dict "n" 5) }}|{{ include "deep" (dict "n" 0) }}|{{ include "count" (dict "n" 2) | upper | quote }}` +
						strings.Repeat(`{{ include "count" (dict "n" 1) }}`, 1500),
				})
			},
		},
		{
			name: "include recursion over the bound",
			chart: func() *helmchart.Chart {
				return engHelmChart("rec", map[string]string{
					"templates/_h.tpl": `{{ define "loop" }}{{ include "loop" . }}{{ end }}`,
					"templates/a.yaml": `{{ include "loop" . }}`,
				})
			},
			modes: []engOptions{{}},
		},
		{
			name: "tpl",
			chart: func() *helmchart.Chart {
				sub := engHelmChart("sub", map[string]string{
					"values.yaml":      "greeting: \"hi {{ .Chart.Name }} {{ .Template.Name }}\"\n",
					"templates/s.yaml": `{{ tpl .Values.greeting . }}|{{ tpl "{{ include \"top.name\" . }}" . }}`,
				})
				return engHelmChart("top", map[string]string{
					"values.yaml": strings.Join([]string{
						`name: "{{ .Release.Name }}-{{ .Values.suffix }}"`,
						`suffix: web`,
						`defines: '{{ define "top.name" }}redefined{{ end }}{{ include "top.name" . }} {{ tpl "{{ include \"top.name\" . }}" . }}'`,
						`nested: '{{ tpl "{{ tpl \"{{ .Values.suffix }}\" . }}" . }}'`,
						`onlydefs: '{{ define "only" }}x{{ end }}'`,
						`missing: '{{ .Values.nope }}|{{ .nothing }}'`,
						`literal: 'text <no value> text'`,
						`list: ["{{ .Values.suffix }}", "b"]`,
						`blank: ""`,
						`selfref: '{{ template "gotpl" }}'`,
					}, "\n") + "\n",
					"templates/_h.tpl": `{{ define "top.name" }}original{{ end }}`,
					"templates/a.yaml": strings.Join([]string{
						`a: {{ tpl .Values.name . }}`,
						`b: {{ tpl .Values.defines . }} after: {{ include "top.name" . }}`,
						`c: {{ tpl .Values.nested . }}`,
						`d: [{{ tpl .Values.onlydefs . }}] [{{ tpl .Values.blank . }}]`,
						`e: {{ tpl (toYaml .Values.list) . }}`,
						`f: {{ tpl "{{ .Template.Name }} {{ .Template.BasePath }}" . }}`,
						`g: {{ tpl "{{ .x }}" (dict "x" 1) }}`,
						`h: {{ tpl .Values.literal . }}`,
					}, "\n"),
					"templates/m.yaml":       `{{ tpl .Values.missing . }}`,
					"templates/z-files.yaml": `{{ tpl (.Files.Get "conf/app.tpl") . }}`,
					"conf/app.tpl":           `port: {{ .Values.suffix | upper }}{{ define "filedef" }}fd{{ end }} {{ include "filedef" . }}`,
				}, sub)
			},
		},
		{
			name: "tpl referring to itself",
			chart: func() *helmchart.Chart {
				return engHelmChart("self", map[string]string{
					"values.yaml": `selfref: '{{ if .stop }}done{{ else }}{{ include "gotpl" (dict "stop" true) }}{{ end }}'` + "\n" +
						`outer: '{{ define "x" }}{{ include "gotpl" (dict "stop" true) }}{{ end }}{{ if .stop }}outer-done{{ else }}{{ tpl "{{ if .stop }}inner-done{{ else }}{{ include \"x\" . }}{{ end }}" . }}{{ end }}'` + "\n",
					"templates/_x.tpl": `{{ define "viafile" }}{{ include "gotpl" (dict "stop" true) }}{{ end }}`,
					"templates/a.yaml": `{{ tpl .Values.selfref . }} {{ tpl .Values.outer . }} {{ tpl "{{ if .stop }}file-done{{ else }}{{ include \"viafile\" . }}{{ end }}" . }}`,
				})
			},
			modes: []engOptions{{}},
		},
		{
			name: "chart defines gotpl",
			chart: func() *helmchart.Chart {
				return engHelmChart("g", map[string]string{
					"templates/_g.tpl": `{{ define "gotpl" }}file-gotpl{{ end }}`,
					"templates/a.yaml": `{{ include "gotpl" . }} {{ tpl "{{ 1 }}" . }} {{ tpl "{{ include \"x\" . }}" . }}{{ define "x" }}{{ include "gotpl" . }}{{ end }}`,
				})
			},
			modes: []engOptions{{}},
		},
		{
			name: "missing values and no value",
			chart: func() *helmchart.Chart {
				return engHelmChart("mv", map[string]string{
					"values.yaml":      "a:\n  b: 1\nnul: ~\n",
					"templates/a.yaml": `x: {{ .Values.a.c }} y: <no value> z: {{ .Values.nul }} w: {{ index .Values "nope" }} {{ .Values.a.c | default "d" }}`,
					"templates/b.yaml": `{{ .Values.a.b.c }}`,
				})
			},
		},
		{
			name: "capabilities",
			chart: func() *helmchart.Chart {
				return engHelmChart("caps", map[string]string{
					"templates/a.yaml": strings.Join([]string{
						`{{ .Capabilities.KubeVersion }} {{ .Capabilities.KubeVersion.Version }} {{ .Capabilities.KubeVersion.Major }} {{ .Capabilities.KubeVersion.Minor }} {{ .Capabilities.KubeVersion.GitVersion }} {{ .Capabilities.KubeVersion.String }}`,
						`{{ .Capabilities.APIVersions.Has "apps/v1" }} {{ .Capabilities.APIVersions.Has "apps/v1/Deployment" }} {{ .Capabilities.APIVersions.Has "nope/v1" }}`,
						`{{ .Capabilities.HelmVersion }} {{ .Capabilities.HelmVersion.Version }} {{ .Capabilities.HelmVersion.GitCommit }} {{ .Capabilities.HelmVersion.GitTreeState }} {{ .Capabilities.HelmVersion.GoVersion }}`,
						`{{ toYaml .Capabilities }}`,
						`{{ toJson .Capabilities.HelmVersion }} {{ .Capabilities.Copy.KubeVersion }}`,
						`{{ semverCompare ">=1.30-0" .Capabilities.KubeVersion.Version }} {{ .Capabilities.APIVersions | len }}`,
						`{{ .Capabilities.KubeVersion | printf "%v" }} {{ .Capabilities.KubeVersion | toString }}`,
					}, "\n"),
				})
			},
		},
		{
			name: "chart metadata",
			chart: func() *helmchart.Chart {
				c := engHelmChart("meta", map[string]string{
					"templates/a.yaml": `{{ .Chart.Name }} {{ .Chart.Version }} {{ .Chart.AppVersion }} {{ .Chart.Description }} {{ .Chart.Keywords }} {{ .Chart.Annotations }} {{ .Chart.Type }} {{ .Chart.IsRoot }}
{{ toYaml .Chart }}
{{ toJson .Chart }}
{{ (index .Chart.Maintainers 0).Name }} {{ typeOf .Chart }} {{ typeOf .Release }} {{ typeOf .Subcharts }}`,
				})
				c.Metadata.Description = "a chart"
				c.Metadata.Keywords = []string{"k1", "k2"}
				c.Metadata.Annotations = map[string]string{"b": "2", "a": "1"}
				c.Metadata.Maintainers = []*helmchart.Maintainer{{Name: "me", Email: "me@example.com"}}
				c.Metadata.Home = "https://example.com"
				c.Metadata.Sources = []string{"https://src"}
				return c
			},
		},
		{
			name: "values methods",
			chart: func() *helmchart.Chart {
				return engHelmChart("vm", map[string]string{
					"values.yaml":      "a:\n  b:\n    c: 1\nlist: [x]\n",
					"templates/a.yaml": `{{ .Values.AsMap | dig "a" "b" "c" "none" }} {{ (.Values.Table "a.b").c }} {{ .Values.PathValue "a.b.c" }} {{ .Values.YAML }} {{ .Template.AsMap.Name }} {{ .AsMap.Release.Name }} {{ $.Values.AsMap | keys | sortAlpha }}`,
				})
			},
		},
		{
			name: "dotted chart names",
			chart: func() *helmchart.Chart {
				sub := engHelmChart("my.sub", map[string]string{"templates/s.yaml": `{{ .Values }} {{ .Chart.Name }} {{ .Template.BasePath }}`})
				return engHelmChart("top", map[string]string{"templates/t.yaml": `{{ (index .Subcharts "my.sub").Values }} {{ .Subcharts | toJson }}`}, sub)
			},
			values: "my:\n  sub:\n    nested: 1\nmy.sub:\n  flat: 2\n",
			raw:    true,
			modes:  []engOptions{{}},
		},
		{
			name: "duplicate and nil templates",
			chart: func() *helmchart.Chart {
				c := engHelmChart("dup", map[string]string{"templates/a.yaml": "first"})
				c.Templates = append(c.Templates, nil, &helmchart.File{Name: "templates/a.yaml", Data: []byte("second {{ .Template.Name }}")})
				return c
			},
		},
		{
			name: "subcharts with the same name",
			chart: func() *helmchart.Chart {
				a := engHelmChart("twin", map[string]string{"templates/x.yaml": "one {{ .Values.v }}", "templates/only-one.yaml": "1"})
				b := engHelmChart("twin", map[string]string{"templates/x.yaml": "two {{ .Values.v }}", "templates/only-two.yaml": "2"})
				return engHelmChart("top", map[string]string{"templates/t.yaml": "{{ .Subcharts.twin.Values.v }}"}, a, b)
			},
			values: "twin:\n  v: shared\n",
		},
		{
			name: "lookup and dns",
			chart: func() *helmchart.Chart {
				return engHelmChart("lk", map[string]string{
					"templates/a.yaml": `{{ lookup "v1" "Secret" "ns" "name" }} {{ (lookup "v1" "Pod" "" "") | len }} [{{ getHostByName "localhost" }}]`,
				})
			},
		},
	})
}

// TestRenderSubchartDirectlyLikeHelm renders a chart that has a parent:
// names keep the parent's path and values come from the parent's table.
func TestRenderSubchartDirectlyLikeHelm(t *testing.T) {
	t.Parallel()
	build := func() *engPair {
		sub := engHelmChart("sub", map[string]string{"templates/s.yaml": `{{ .Values }} {{ .Chart.IsRoot }} {{ .Template.Name }}`})
		engHelmChart("top", map[string]string{"templates/t.yaml": "t"}, sub)
		p, err := engProcessPair(sub, nil)
		if err != nil {
			t.Fatal(err)
		}
		p.vals = map[string]any{"sub": map[string]any{"x": 1}, "y": 2}
		return p
	}
	hp, op := build(), build()
	// The conversion made our copy a root; give it its parent back.
	engChart("top", nil, op.ours)
	want, wantErr := hp.renderHelm(engOptions{})
	got, gotErr := op.renderOurs(Engine{})
	engCompare(t, want, wantErr, got, gotErr, false)
	if _, ok := got["top/charts/sub/templates/s.yaml"]; !ok {
		t.Errorf("rendered %v", got)
	}
}
