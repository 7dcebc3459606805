package render

import (
	"fmt"
	"strings"
	"testing"

	helmchart "helm.sh/helm/v3/pkg/chart"
)

// engGlobPatterns exercise gobwas/glob's syntax as .Files.Glob uses it.
var engGlobPatterns = []string{
	"*", "**", "*.txt", "**.txt", "**/*.txt", "conf/*", "conf/**", "conf/*/*", "c*/*.yaml",
	"{conf,data}/*", "data/?.bin", "data/[ab].bin", "data/[!a].bin", "data/[a-c].bin",
	"[", "{a", "conf\\*", "", "NOTES.txt", "*/", "**/", "conf/sub/deep.yaml",
}

// TestFilesLikeHelm compares every .Files method with Helm's on a chart
// with nested, binary, empty and oddly named files.
func TestFilesLikeHelm(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"a.txt":               "line1\nline2\n",
		"crlf.txt":            "x\r\ny\r\n",
		"empty.txt":           "",
		"newline.txt":         "\n",
		"blank-lines.txt":     "\n\na\n\n",
		"conf/app.yaml":       "key: value\n",
		"conf/other.yaml":     "k: v",
		"conf/sub/deep.yaml":  "deep: true",
		"conf/sub/app.yaml":   "dup: base name",
		"data/a.bin":          "\x00\x01\xff",
		"data/b.bin":          "b",
		"data/c.bin":          "c",
		"weird name (1).txt":  "spaces",
		"unicodé/ü.txt":       "ü",
		"templates-not/x.tpl": "{{ not a template }}",
	}
	var tpl strings.Builder
	tpl.WriteString(`get: {{ .Files.Get "a.txt" | quote }} {{ .Files.Get "missing" | quote }} {{ .Files.GetBytes "data/a.bin" }} {{ .Files.GetBytes "missing" }} {{ index .Files "conf/app.yaml" }} {{ typeOf (.Files.GetBytes "a.txt") }}
lines: {{ range $f := list "a.txt" "crlf.txt" "empty.txt" "newline.txt" "blank-lines.txt" "missing" }}{{ $f }}={{ $.Files.Lines $f | toJson }} {{ end }}
config: {{ (.Files.Glob "conf/*").AsConfig | nindent 2 }}
secrets: {{ (.Files.Glob "data/*").AsSecrets | nindent 2 }}
emptyglob: {{ (.Files.Glob "nothing/*").AsConfig }}|{{ (.Files.Glob "nothing/*").AsSecrets }}
len: {{ len .Files }}
`)
	for i, p := range engGlobPatterns {
		fmt.Fprintf(&tpl, "glob%d %q: {{ range $name, $data := .Files.Glob %q }}{{ $name }} {{ end }}\n", i, p, p)
	}
	engRunCases(t, []engCase{{
		name: "files",
		chart: func() *helmchart.Chart {
			fs := map[string]string{"templates/files.yaml": tpl.String()}
			for k, v := range files {
				fs[k] = v
			}
			return engHelmChart("files", fs)
		},
		modes: []engOptions{{}},
	}})
}
