package render

import (
	"testing"
)

func FuzzSortManifests(f *testing.F) {
	for _, d := range headDocs {
		f.Add(d.doc)
	}
	for _, content := range genRenderedCharts(2) {
		f.Add(content)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		// The scanner must never claim a document that Helm's decoding
		// would read differently or reject.
		if got, ok := scanManifestHead(doc); ok {
			want, err := decodeManifestHead(doc)
			if err != nil {
				t.Fatalf("scanned %q, which does not decode: %v", doc, err)
			}
			if d := diffScannedHead(got, want); d != "" {
				t.Fatalf("%q: %s", doc, d)
			}
		}
		files := map[string]string{
			"c/templates/x.yaml": doc,
			"c/templates/y.yaml": "kind: Service\nmetadata:\n  name: s\n---\n" + doc,
		}
		hooks, manifests, err := SortManifests(files, InstallOrder())
		hHooks, hManifests, hErr := helmSortManifests(files, InstallOrder())
		if d := diffSortResults(hooks, manifests, err, hHooks, hManifests, hErr); d != "" {
			t.Fatalf("%q: differs from Helm: %s", doc, d)
		}
	})
}
