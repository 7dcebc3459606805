package repo

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"sigs.k8s.io/yaml"
)

// fastCases are documents the fast decoder must decode exactly as the
// general one, or decline.
var fastCases = []string{
	"apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.2.3\n    urls: [a-1.2.3.tgz]\n",
	"apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.10\n",
	"apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: \"1.0.0\"\n    appVersion: 1.10\n",
	"apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n    appVersion: yes\n    deprecated: yes\n",
	"apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n    appVersion: 0x1F\n",
	"apiVersion: v1\nentries:\n  a:\n  - &x\n    name: a\n    version: 1.0.0\n  - *x\n",
	"apiVersion: v1\nentries:\n  a:\n  - Name: a\n    version: 1.0.0\n",
	"apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n    unknown: field\n    created: 2016-10-06T16:23:20.499814565-06:00\n",
	"apiVersion: v1\nentries:\n  a:\n  - null\n  - name: a\n    version: 1.0.0\n    annotations: {1.5: x, true: y, k: 012}\n",
	"apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n    dependencies:\n    - name: b\n      version: ~1\n      repository: https://x\n      tags: [t]\n      enabled: true\n",
	"apiVersion: v1\ngenerated: 2016-10-06\nentries: {}\n",
	"apiVersion: 1\nentries:\n",
	"{apiVersion: v1, entries: {a: [{name: a, version: 1.0.0, maintainers: [{name: m, email: e}, null]}]}}",
}

func FuzzFastDecoderMatchesGeneral(f *testing.F) {
	for _, c := range fastCases {
		f.Add([]byte(c))
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n  b:\n  - name: b\n    version: 2.0.0\n    description: two\n      lines\n  # comment\n  c: []\n  a:\n  - name: a\n    version: 3.0.0\ngenerated: 2020-01-01T00:00:00Z\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		whole, okWhole := decodeIndexDoc(data)
		split, okSplit := decodeIndexSplit(data, 0, 3)
		if okWhole && okSplit {
			a, _ := json.Marshal(whole)
			b, _ := json.Marshal(split)
			if string(a) != string(b) {
				t.Fatalf("split decoding differs on\n%s\nwhole: %s\nsplit: %s", data, a, b)
			}
		}
		if okWhole {
			checkAgainstGeneral(t, data, whole)
		}
		if okSplit {
			checkAgainstGeneral(t, data, split)
		}
	})
}

func checkAgainstGeneral(t *testing.T, data []byte, fast *IndexFile) {
	t.Helper()
	{
		var slow IndexFile
		if err := yaml.Unmarshal(data, &slow); err != nil {
			t.Fatalf("the fast decoder accepted what the general one refuses (%v):\n%s", err, data)
		}
		a, _ := json.Marshal(fast)
		b, _ := json.Marshal(&slow)
		if string(a) != string(b) {
			t.Fatalf("decoders differ on\n%s\nfast:    %s\ngeneral: %s", data, a, b)
		}
	}
}

func TestFastDecoderCases(t *testing.T) {
	t.Parallel()
	declined := 0
	for _, c := range fastCases {
		fast, ok := decodeIndexDoc([]byte(c))
		if !ok {
			declined++
			continue
		}
		if split, ok := decodeIndexSplit([]byte(c), 0, 2); ok && mustJSON(t, split) != mustJSON(t, fast) {
			t.Errorf("split decoding differs on\n%s", c)
		}
		var slow IndexFile
		if err := yaml.Unmarshal([]byte(c), &slow); err != nil {
			t.Errorf("general decoder: %v\n%s", err, c)
			continue
		}
		if !reflect.DeepEqual(mustJSON(t, fast), mustJSON(t, &slow)) {
			t.Errorf("decoders differ on\n%s\nfast:    %s\ngeneral: %s", c, mustJSON(t, fast), mustJSON(t, &slow))
		}
	}
	if declined == 0 || declined == len(fastCases) {
		t.Errorf("the fast decoder declined %d of %d cases; some should go each way", declined, len(fastCases))
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func FuzzChartDecoderMatchesWhole(f *testing.F) {
	for _, c := range fastCases {
		f.Add([]byte(c), "a")
	}
	f.Add([]byte("apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n  ab:\n  - name: ab\n    version: 2.0.0\n  \"a\":\n  - name: a\n    version: 3.0.0\ngenerated: 2020-01-01T00:00:00Z\n"), "a")
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		part, ok := decodeIndexChart(data, name)
		if !ok {
			return
		}
		whole, ok := decodeIndexDoc(data)
		if !ok {
			// The chart's part decodes although the whole does not:
			// allowed (LoadIndexChart is for indexes loaded whole once),
			// but the part must still match the general decoder's view
			// when that one succeeds.
			return
		}
		want := IndexFile{APIVersion: whole.APIVersion, Generated: whole.Generated, PublicKeys: whole.PublicKeys, Annotations: whole.Annotations,
			Entries: map[string]ChartVersions{name: whole.Entries[name]}}
		if _, in := whole.Entries[name]; !in {
			t.Fatalf("found %q in parts only:\n%s", name, data)
		}
		if a, b := mustJSON(t, part), mustJSON(t, &want); a != b {
			t.Fatalf("differs on\n%s\npart:  %s\nwhole: %s", data, a, b)
		}
	})
}
