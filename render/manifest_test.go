package render

import (
	"maps"
	"slices"
	"testing"

	"helm.sh/helm/v3/pkg/releaseutil"
)

// splitCases are streams with the documents SplitManifests must cut them
// into, in order; they also seed FuzzSplitManifests.
var splitCases = []struct {
	name   string
	stream string
	want   []string
}{
	{"empty", "", nil},
	{"whitespace", " \n\t\n", nil},
	{"one document", "kind: A\n", []string{"kind: A"}},
	{"leading separator", "---\nkind: A\n---\nkind: B", []string{"kind: A", "kind: B"}},
	{"separator with spaces around", "kind: A\n  \n---   \n\nkind: B\n", []string{"kind: A", "kind: B"}},
	{"text after the dashes", "kind: A\n---kind: B\n--- # Source: x\nkind: C", []string{"kind: A", "kind: B", "# Source: x\nkind: C"}},
	{"four dashes", "kind: A\n----\nkind: B", []string{"kind: A", "-\nkind: B"}},
	{"indented dashes are not separators", "a: |\n  ---\n  b\n", []string{"a: |\n  ---\n  b"}},
	{"dashes mid-line", "a: x---y\n", []string{"a: x---y"}},
	{"empty documents", "---\n---\n---\nkind: A\n---\n", []string{"---", "kind: A"}},
	{"consecutive separators", "kind: A\n---\n---\nkind: B", []string{"kind: A", "---\nkind: B"}},
	{"separator at the end", "kind: A\n---", []string{"kind: A"}},
	{"carriage returns", "kind: A\r\n---\r\nkind: B\r\n", []string{"kind: A", "kind: B"}},
	{"vertical tab piece", "kind: A\n---\v\n---\nkind: B", []string{"kind: A", "", "kind: B"}},
	{"form feed", "kind: A\f\n---\fkind: B", []string{"kind: A", "kind: B"}},
	{"no newline before dashes", "kind: A ---\nkind: B", []string{"kind: A ---\nkind: B"}},
	{"unicode spaces trimmed", "\u00a0kind: A\u00a0\n---\n\u2003kind: B", []string{"kind: A", "kind: B"}},
}

func TestSplitManifests(t *testing.T) {
	t.Parallel()
	for _, tc := range splitCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := appendManifestDocs(nil, tc.stream); !slices.Equal(got, tc.want) {
				t.Errorf("documents = %q, want %q", got, tc.want)
			}
			got := SplitManifests(tc.stream)
			if want := releaseutil.SplitManifests(tc.stream); !maps.Equal(got, want) {
				t.Errorf("SplitManifests = %q\nHelm's         = %q", got, want)
			}
			if len(got) != len(tc.want) {
				t.Errorf("SplitManifests has %d documents, want %d", len(got), len(tc.want))
			}
		})
	}
}

func TestSplitManifestsMatchesHelmOnGeneratedCharts(t *testing.T) {
	t.Parallel()
	for name, content := range genRenderedCharts(4) {
		if got, want := SplitManifests(content), releaseutil.SplitManifests(content); !maps.Equal(got, want) {
			t.Errorf("%s: SplitManifests = %q\nHelm's = %q", name, got, want)
		}
	}
}

func FuzzSplitManifests(f *testing.F) {
	for _, tc := range splitCases {
		f.Add(tc.stream)
	}
	for _, d := range headDocs {
		f.Add(d.doc + "\n---\n" + d.doc)
	}
	f.Fuzz(func(t *testing.T, stream string) {
		got, want := SplitManifests(stream), releaseutil.SplitManifests(stream)
		if !maps.Equal(got, want) {
			t.Fatalf("SplitManifests(%q)\n = %q\nHelm's %q", stream, got, want)
		}
	})
}
