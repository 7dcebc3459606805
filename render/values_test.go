package render

import (
	"reflect"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"
)

var readValuesInputs = map[string]string{
	"empty":      "",
	"null":       "null",
	"comment":    "# only a comment\n",
	"simple":     "a: 1\nb: two\nc: [1, 2]\nd: {e: null}\n",
	"types":      "i: 10\nf: 1.5\nbig: 12345678901234567890\nb: yes\nt: true\ns: '007'\nd: 2024-01-01\n",
	"nested":     "a:\n  b:\n    c: [ {d: 1}, {e: [x]} ]\n",
	"bad indent": "a: 1\n b: 2\n",
	"bad flow":   "a: [1, 2\nb: 3\n",
	"tab":        "a:\n\tb: 1\n",
	"list":       "- a\n- b\n",
	"scalar":     "just a string",
	"duplicate":  "a: 1\na: 2\n",
	"anchors":    "base: &b {x: 1}\nuse: *b\n",
	"merge key":  "base: &b {x: 1}\nuse:\n  <<: *b\n  y: 2\n",
}

func TestReadValuesMatchesHelm(t *testing.T) {
	t.Parallel()
	for name, in := range readValuesInputs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, gotErr := ReadValues([]byte(in))
			want, wantErr := chartutil.ReadValues([]byte(in))
			if (gotErr == nil) != (wantErr == nil) {
				t.Fatalf("error = %v, Helm's = %v", gotErr, wantErr)
			}
			if gotErr != nil {
				// Helm decodes into its own Values type, whose name shows
				// in type errors; the rest of the text must match.
				if g, w := gotErr.Error(), replaceTypeName(wantErr.Error()); g != w {
					t.Fatalf("error = %q, Helm's = %q", g, w)
				}
				return
			}
			if !reflect.DeepEqual(map[string]any(got), map[string]any(want)) {
				t.Fatalf("got %#v, want %#v", got, want)
			}
		})
	}
}

func replaceTypeName(s string) string {
	return strings.ReplaceAll(s, "chartutil.Values", "map[string]interface {}")
}

func TestTableAndPathValueMatchHelm(t *testing.T) {
	t.Parallel()
	doc := `
title: Moby Dick
chapter:
  one:
    title: Loomings
  two:
    title: The Carpet-Bag
    list: [1, 2]
  empty: {}
  nil: null
dotted.key: 1
"": blank
`
	paths := []string{
		"", ".", "title", "chapter", "chapter.one", "chapter.one.title", "chapter.two.list",
		"chapter.two.list.0", "chapter.empty", "chapter.nil", "chapter.missing", "chapter.missing.x",
		"title.x", "dotted.key", "dotted", "chapter..one", "chapter.one.", "missing",
	}
	ours, err := ReadValues([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	helms, err := chartutil.ReadValues([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			gotT, gotErr := ours.Table(p)
			wantT, wantErr := helms.Table(p)
			if valErrText(gotErr) != valErrText(wantErr) || !reflect.DeepEqual(map[string]any(gotT), map[string]any(wantT)) {
				t.Errorf("Table(%q) = %v, %v; Helm's %v, %v", p, gotT, gotErr, wantT, wantErr)
			}
			gotV, gotErr := ours.PathValue(p)
			wantV, wantErr := helms.PathValue(p)
			if valErrText(gotErr) != valErrText(wantErr) || !reflect.DeepEqual(gotV, wantV) {
				t.Errorf("PathValue(%q) = %v, %v; Helm's %v, %v", p, gotV, gotErr, wantV, wantErr)
			}
		})
	}
}

func TestValuesYAML(t *testing.T) {
	t.Parallel()
	v := Values{"b": []any{int64(1), "x"}, "a": map[string]any{"z": nil, "y": true}}
	got, err := v.YAML()
	if err != nil {
		t.Fatal(err)
	}
	want, err := chartutil.Values(v).YAML()
	if err != nil {
		t.Fatal(err)
	}
	if got != want || got != "a:\n  \"y\": true\n  z: null\nb:\n- 1\n- x\n" {
		t.Fatalf("YAML() = %q, Helm's %q", got, want)
	}
}
