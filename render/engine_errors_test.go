package render

import (
	"errors"
	"testing"
	"text/template"

	helmchart "helm.sh/helm/v3/pkg/chart"
)

// engOneTemplate is a chart with a single template (plus files).
func engOneTemplate(tpl string, more ...string) func() *helmchart.Chart {
	return func() *helmchart.Chart {
		files := map[string]string{"templates/t.yaml": tpl}
		for i := 0; i+1 < len(more); i += 2 {
			files[more[i]] = more[i+1]
		}
		return engHelmChart("e", files)
	}
}

// TestRenderErrorsLikeHelm requires the same error text as Helm for parse
// and execution failures of every kind.
func TestRenderErrorsLikeHelm(t *testing.T) {
	t.Parallel()
	engRunCases(t, []engCase{
		// Parse errors.
		{name: "undefined function", chart: engOneTemplate(`a {{ foo }}`)},
		{name: "env is not a function", chart: engOneTemplate(`{{ env "HOME" }}{{ expandenv "$HOME" }}`)},
		{name: "unclosed action", chart: engOneTemplate("line1\n{{ .Values.x")},
		{name: "bad number", chart: engOneTemplate("\n\n{{ 1x }}")},
		{name: "unexpected end", chart: engOneTemplate(`{{ end }}`)},
		{name: "unclosed if", chart: engOneTemplate(`{{ if true }}x`)},
		{name: "colon in reason", chart: engOneTemplate(`{{ "unterminated }}`)},
		{name: "redefinition in one file", chart: engOneTemplate(`{{ define "a" }}1{{ end }}{{ define "a" }}2{{ end }}`)},
		{name: "parse error in a definition", chart: engOneTemplate(`x`, "templates/_h.tpl", "{{ define \"h\" }}\n{{ .x | }}\n{{ end }}")},
		{
			name: "first parse error in helm's order",
			chart: func() *helmchart.Chart {
				sub := engHelmChart("sub", map[string]string{"templates/s.yaml": `{{ sub1 }}`, "templates/a/b.yaml": `{{ sub2 }}`})
				return engHelmChart("top", map[string]string{"templates/a.yaml": `{{ top1 }}`, "templates/b.yaml": `{{ top2 }}`, "templates/x/y/z.yaml": `{{ top3 }}`}, sub)
			},
		},
		// Execution errors.
		{name: "required", chart: engOneTemplate("ok\n  {{ required \"image.tag is required\" .Values.image }}")},
		{name: "required empty string", chart: engOneTemplate(`{{ required "need s" .Values.s }}`), values: `s: ""`},
		{name: "required passes values", chart: engOneTemplate(`{{ required "x" .Values.z }} {{ required "y" 0 }} {{ required "y" false }}`), values: `z: [1]`},
		{name: "required colons and newlines", chart: engOneTemplate(`{{ required ":this: has: colons:\nand a break" .Values.nope }}`)},
		{name: "required empty message", chart: engOneTemplate(`{{ required "" nil }}`)},
		{name: "required in a printf", chart: engOneTemplate("{{ $v := \"\" }}\n{{- required (printf \"%s: missing\" \"abc\") $v | repeat 0 }}")},
		{name: "fail", chart: engOneTemplate(`All your base{{ fail "This is an error" }}`)},
		{name: "fail with newline", chart: engOneTemplate(`{{ fail "wrong\nbreak" }}`)},
		{
			name:  "required in an included definition",
			chart: engOneTemplate(`{{ include "h" . }}`, "templates/_h.tpl", "{{ define \"h\" }}\n\n   {{ required \"deep: value\" .Values.deep }}{{ end }}"),
		},
		{name: "required inside tpl", chart: engOneTemplate(`{{ tpl "{{ required \"in tpl\" .Values.x }}" . }}`)},
		{name: "fail inside tpl inside include", chart: engOneTemplate(`{{ include "h" . }}`, "templates/_h.tpl", `{{ define "h" }}{{ tpl "{{ fail \"nested fail\" }}" . }}{{ end }}`)},
		{name: "fail inside defining tpl", chart: engOneTemplate(`{{ tpl "{{ define \"q\" }}{{ fail \"q failed\" }}{{ end }}{{ include \"q\" . }}" . }}`)},
		{name: "tpl parse error", chart: engOneTemplate(`{{ tpl "{{ nofunc }}" . }}`)},
		{name: "tpl parse error in defining text", chart: engOneTemplate(`{{ tpl "{{ define \"a\" }}{{ end }}{{ nofunc }}" . }}`)},
		{name: "tpl with wrong argument", chart: engOneTemplate(`{{ tpl 42 . }}`)},
		{name: "include missing template", chart: engOneTemplate(`{{ include "nope" . }}`)},
		{name: "template action missing", chart: engOneTemplate(`{{ template "nope" . }}`)},
		{name: "include wrong arguments", chart: engOneTemplate(`{{ include "a" }}`)},
		{name: "required wrong type", chart: engOneTemplate(`{{ required 1 .Values.x }}`)},
		{name: "encoder arity", chart: engOneTemplate(`{{ toYaml }}`)},
		{name: "nil pointer", chart: engOneTemplate(`{{ .Values.a.b.c }}`)},
		{name: "index out of range", chart: engOneTemplate(`{{ index .Values.list 5 }}`), values: `list: [1]`},
		{name: "files with a number", chart: engOneTemplate(`{{ .Files.Get 3 }}`)},
		{name: "method with missing argument", chart: engOneTemplate(`{{ .Capabilities.APIVersions.Has }}`)},
		{name: "sprig panic", chart: engOneTemplate(`{{ dig "a" }}`)},
		{name: "strict missing key", chart: engOneTemplate(`{{ .Values.nope }}`)},
		{name: "strict missing key in tpl", chart: engOneTemplate(`{{ tpl "{{ .Values.nope }}" . }}`)},
		{
			name: "first execution error in helm's order",
			chart: func() *helmchart.Chart {
				sub := engHelmChart("sub", map[string]string{"templates/s.yaml": `{{ fail "sub" }}`})
				return engHelmChart("top", map[string]string{"templates/a.yaml": `{{ fail "a" }}`, "templates/x/y/z.yaml": `{{ fail "deep" }}`}, sub)
			},
		},
		{name: "literal markers", chart: engOneTemplate(`{{ fail "a HELM_ERR_END b" }}`)},
		{name: "error text with percent", chart: engOneTemplate(`{{ fail "100%% %s" }}{{ required "50% done" nil }}`)},
		{name: "kube version unmet", chart: func() *helmchart.Chart {
			return engWithMeta(engHelmChart("kv", map[string]string{"templates/a.yaml": "a"}), func(m *helmchart.Metadata) { m.KubeVersion = "<1.30.0" })
		}},
		{name: "kube version invalid", chart: func() *helmchart.Chart {
			return engWithMeta(engHelmChart("kv", map[string]string{"templates/a.yaml": "a"}), func(m *helmchart.Metadata) { m.KubeVersion = "not a range" })
		}},
		{name: "kube version met", chart: func() *helmchart.Chart {
			return engWithMeta(engHelmChart("kv", map[string]string{"templates/a.yaml": "a"}), func(m *helmchart.Metadata) { m.KubeVersion = ">=1.25.0-0" })
		}},
	})
}

// TestTemplateErrorData checks that failures keep where they happened as
// data, and that the chain still reaches text/template's error.
func TestTemplateErrorData(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		files    map[string]string
		want     TemplateError
		wantText string
	}{
		{
			name:     "parse",
			files:    map[string]string{"templates/t.yaml": "a\n\n{{ nofunc }}"},
			want:     TemplateError{Phase: PhaseParse, Template: "e/templates/t.yaml", Source: "e/templates/t.yaml", Line: 3, Message: `function "nofunc" not defined`},
			wantText: `parse error at (e/templates/t.yaml:3): function "nofunc" not defined`,
		},
		{
			name: "required in a definition",
			files: map[string]string{
				"templates/t.yaml": `{{ include "h" . }}`,
				"templates/_h.tpl": "{{ define \"h\" }}\n  {{ required \"need x\" .Values.x }}{{ end }}",
			},
			want:     TemplateError{Phase: PhaseExecute, Template: "e/templates/t.yaml", Name: "e/templates/t.yaml", Source: "e/templates/t.yaml", Line: 1, Col: 3, Failure: true, Message: "need x"},
			wantText: `execution error at (e/templates/t.yaml:1:3): need x`,
		},
		{
			name:     "missing key",
			files:    map[string]string{"templates/t.yaml": "x\n {{ .Values.a.b }}"},
			want:     TemplateError{Phase: PhaseExecute, Template: "e/templates/t.yaml", Name: "e/templates/t.yaml", Source: "e/templates/t.yaml", Line: 2, Col: 11},
			wantText: `template: e/templates/t.yaml:2:11: executing "e/templates/t.yaml" at <.Values.a.b>: nil pointer evaluating interface {}.b`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := engProcessPair(engHelmChart("e", tc.files), nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.renderOurs(Engine{})
			var te *TemplateError
			if !errors.As(err, &te) {
				t.Fatalf("got %T %v, want a *TemplateError", err, err)
			}
			got := *te
			got.Err = nil
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
			if err.Error() != tc.wantText {
				t.Errorf("text %q, want %q", err.Error(), tc.wantText)
			}
			if te.Phase == PhaseExecute {
				var xe template.ExecError
				if !errors.As(err, &xe) {
					t.Errorf("chain does not reach template.ExecError")
				}
			}
		})
	}
}

// TestSplitLocation covers the parsing of text/template's locations.
func TestSplitLocation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		loc             string
		n               int
		name            string
		line, col       int
		roundTripsAsLoc bool
	}{
		{"a/b.yaml:3:4", 2, "a/b.yaml", 3, 4, true},
		{"a/b.yaml:3:0", 2, "a/b.yaml", 3, 0, true},
		{"a:b.yaml:12", 1, "a:b.yaml", 12, 0, true},
		{"name", 2, "name", 0, 0, true},
		{"name:x:1", 2, "name:x:1", 0, 0, true},
		{"name:01:1", 2, "name:01:1", 0, 0, true},
		{"name:0:1", 2, "name:0:1", 0, 0, true},
		{"n:5", 2, "n:5", 0, 0, true},
	}
	for _, tc := range tests {
		name, line, col := splitLocation(tc.loc, tc.n)
		if name != tc.name || line != tc.line || col != tc.col {
			t.Errorf("splitLocation(%q, %d) = %q %d %d, want %q %d %d", tc.loc, tc.n, name, line, col, tc.name, tc.line, tc.col)
		}
		phase := PhaseExecute
		if tc.n == 1 {
			phase = PhaseParse
		}
		te := &TemplateError{Phase: phase, Source: name, Line: line, Col: col}
		if got := te.location(); got != tc.loc {
			t.Errorf("location of %q formats back as %q", tc.loc, got)
		}
	}
}

// TestRenderErrorHelmTypeNames checks that Go's messages name the types
// templates see as Helm's do ("chartutil.Values"): the types live in
// internal packages named as Helm's.
func TestRenderErrorHelmTypeNames(t *testing.T) {
	t.Parallel()
	p, err := engProcessPair(engHelmChart("e", map[string]string{"templates/t.yaml": `{{ dig "a" "b" .Values }}`}), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, helmErr := p.renderHelm(engOptions{})
	_, ourErr := p.renderOurs(Engine{})
	if helmErr == nil || ourErr == nil {
		t.Fatalf("dig on .Values should fail on both sides: helm %v, ours %v", helmErr, ourErr)
	}
	if ourErr.Error() != helmErr.Error() {
		t.Errorf("got %q\nwant %q", ourErr, helmErr)
	}
}
