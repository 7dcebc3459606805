package render

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

// engFuzzDeny rejects fuzzed templates that are random, slow or unbounded
// in memory on both engines alike (random and clock functions, key
// generation, huge counts), which would compare nothing useful.
var engFuzzDeny = regexp.MustCompile(`rand|uuid|gen[A-Z]|now|date|ago|htpasswd|bcrypt|shuffle|derivePassword|encryptAES|getHost|repeat|until|seq|range|indent|wrap|pad|printf|[0-9]{4,}`)

// engHelmTypeNames renames our types to Helm's in text Go generated.
var engHelmTypeNames = strings.NewReplacer("render.Values", "chartutil.Values", "render.files", "engine.files", "render.Capabilities", "chartutil.Capabilities", "render.KubeVersion", "chartutil.KubeVersion", "render.VersionSet", "chartutil.VersionSet", "render.HelmVersion", "version.BuildInfo")

var engPointer = regexp.MustCompile(`0x[0-9a-f]{6,}`)

// FuzzRenderLikeHelm renders fuzzed template text, with a partial and a
// subchart beside it, through both engines and requires the same output or
// the same error.
func FuzzRenderLikeHelm(f *testing.F) {
	for _, seed := range []string{
		`{{ .Values.a }}`,
		`{{ include "p" . }} {{ tpl "{{ .Values.a }}" . }}`,
		`{{ tpl "{{ define \"p\" }}x{{ end }}{{ include \"p\" . }}" . }}{{ include "p" . }}`,
		`{{ required "a: b" .Values.nope }}`,
		`{{ fail "x" }}`,
		`{{ toYaml .Values }}{{ toJson .Subcharts.sub.Values }}`,
		`{{ .Files.Get "f.txt" }}{{ .Template.Name }}{{ .Capabilities.KubeVersion }}`,
		`{{ $x := dict "a" 1 }}{{ $x.a }}{{ .nope }}`,
		`{{ define "q" }}{{ .Values }}{{ end }}{{ template "q" . }}`,
		`{{ if }}`, `{{ .Values.a.b.c }}`, `{{ end }}`, `{{ 1x }}`, `{{ "unterminated }}`,
		`{{ include "p" }}`, `{{ tpl "{{" . }}`, `{{ dig "a" "b" .Values }}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 2048 || engFuzzDeny.MatchString(text) {
			t.Skip()
		}
		build := func() *engPair {
			sub := engHelmChart("sub", map[string]string{"values.yaml": "s: 1", "templates/s.yaml": "{{ .Values.s }}"})
			c := engHelmChart("fz", map[string]string{
				"values.yaml":      "a: 1\nlist: [1, x]\n",
				"templates/_p.tpl": `{{ define "p" }}partial {{ .Values.a }}{{ end }}`,
				"templates/t.yaml": text,
				"f.txt":            "file",
			}, sub)
			p, err := engProcessPair(c, nil)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		for _, o := range []engOptions{{}, {strict: true}} {
			want, wantErr := build().renderHelm(o)
			got, gotErr := build().renderOurs(o.engine())
			// Go names our types where it names Helm's (see
			// TestRenderErrorNotHelmType); that is the one known difference.
			// Printed pointers differ from run to run.
			for k, v := range got {
				got[k] = engPointer.ReplaceAllString(engHelmTypeNames.Replace(v), "0xPTR")
			}
			for k, v := range want {
				want[k] = engPointer.ReplaceAllString(v, "0xPTR")
			}
			if gotErr != nil {
				gotErr = errors.New(engPointer.ReplaceAllString(engHelmTypeNames.Replace(gotErr.Error()), "0xPTR"))
			}
			if wantErr != nil {
				wantErr = errors.New(engPointer.ReplaceAllString(wantErr.Error(), "0xPTR"))
			}
			engCompare(t, want, wantErr, got, gotErr, false)
		}
	})
}
