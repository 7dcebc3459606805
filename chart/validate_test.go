package chart

import (
	"errors"
	"testing"

	helmchart "helm.sh/helm/v3/pkg/chart"
	"sigs.k8s.io/yaml"
)

// chartYAMLCases are Chart.yaml documents validated by both sides.
var chartYAMLCases = []string{
	"apiVersion: v2\nname: ok\nversion: 1.0.0\n",
	"name: ok\nversion: 1.0.0\n",
	"apiVersion: v2\nversion: 1.0.0\n",
	"apiVersion: v2\nname: .\nversion: 1.0.0\n",
	"apiVersion: v2\nname: ..\nversion: 1.0.0\n",
	"apiVersion: v2\nname: a/b\nversion: 1.0.0\n",
	"apiVersion: v2\nname: a/\nversion: 1.0.0\n",
	"apiVersion: v2\nname: 'a\\b'\nversion: 1.0.0\n",
	"apiVersion: v2\nname: ok\n",
	"apiVersion: v2\nname: ok\nversion: one\n",
	"apiVersion: v2\nname: ok\nversion: v1.2\n",
	"apiVersion: v2\nname: ok\nversion: 1.2.3-rc.1+build.5\n",
	"apiVersion: v2\nname: ok\nversion: 01.2.3\n",
	"apiVersion: v2\nname: ok\nversion: 1.0.0\ntype: library\n",
	"apiVersion: v2\nname: ok\nversion: 1.0.0\ntype: Application\n",
	"apiVersion: v3\nname: ok\nversion: 1.0.0\n",
	"apiVersion: v2\nname: ok\nversion: 1.0.0\nmaintainers: [null]\n",
	"apiVersion: v2\nname: ok\nversion: 1.0.0\nmaintainers: [{name: \"a\\tb\", email: \"x\\u0000y\"}]\n",
	"apiVersion: v2\nname: ok\nversion: 1.0.0\ndependencies: [null]\n",
	"apiVersion: v2\nname: ok\nversion: 1.0.0\ndependencies: [{name: a}, {name: a}]\n",
	"apiVersion: v2\nname: ok\nversion: 1.0.0\ndependencies: [{name: a}, {name: b, alias: a}]\n",
	"apiVersion: v2\nname: ok\nversion: 1.0.0\ndependencies: [{name: a, alias: a-1_B}, {name: a, alias: x}]\n",
	"apiVersion: v2\nname: ok\nversion: 1.0.0\ndependencies: [{name: a, alias: 'a b'}]\n",
	"apiVersion: v2\nname: ok\nversion: 1.0.0\ndependencies: [{name: \"a\\nb\", version: \"\\t1\", tags: [\"x\\u2028y\"]}]\n",
	"apiVersion: v2\nname: \"o\\u00a0k\"\nversion: 1.0.0\ndescription: \"\\u200bzero width\\u0007\"\nkeywords: [\"\\u00ff\\u0085\"]\nsources: [\"\\r\\n\"]\n",
	"apiVersion: v2\nname: \"\\xff\"\nversion: 1.0.0\n",
}

func TestValidateMatchesHelm(t *testing.T) {
	for _, doc := range chartYAMLCases {
		t.Run(doc, func(t *testing.T) {
			t.Parallel()
			compareValidate(t, []byte(doc))
		})
	}
}

func compareValidate(t *testing.T, doc []byte) {
	t.Helper()
	var ours Metadata
	var theirs helmchart.Metadata
	oerr := yaml.Unmarshal(doc, &ours)
	herr := yaml.Unmarshal(doc, &theirs)
	if (oerr == nil) != (herr == nil) {
		t.Fatalf("unmarshal: ours %v, Helm %v", oerr, herr)
	}
	if oerr != nil {
		return
	}
	ov, hv := ours.Validate(), theirs.Validate()
	if (ov == nil) != (hv == nil) || (ov != nil && ov.Error() != hv.Error()) {
		t.Fatalf("Validate: ours %v, Helm %v", ov, hv)
	}
	if ov != nil && !errors.Is(ov, ErrInvalidChart) {
		t.Errorf("%v is not ErrInvalidChart", ov)
	}
	// Both normalise the fields in place.
	if a, b := mustJSON(t, &ours), mustJSON(t, &theirs); a != b {
		t.Errorf("after Validate:\nours: %s\nhelm: %s", a, b)
	}
}

func TestValidateNil(t *testing.T) {
	var m *Metadata
	var c *Chart
	for _, err := range []error{m.Validate(), c.Validate(), (&Chart{}).Validate()} {
		if err == nil || err.Error() != "validation: chart.metadata is required" {
			t.Errorf("error = %v", err)
		}
	}
	var d *Dependency
	var mt *Maintainer
	if d.Validate() == nil || mt.Validate() == nil {
		t.Error("nil entries pass")
	}
}

func TestCheckAPIVersion(t *testing.T) {
	tests := map[string]bool{"v1": true, "v2": true, "": false, "v3": false, "V2": false}
	for v, ok := range tests {
		err := (&Metadata{APIVersion: v}).CheckAPIVersion()
		if (err == nil) != ok {
			t.Errorf("CheckAPIVersion(%q) = %v", v, err)
		}
	}
}

// FuzzValidateMatchesHelm validates arbitrary Chart.yaml documents on both
// sides.
func FuzzValidateMatchesHelm(f *testing.F) {
	for _, doc := range chartYAMLCases {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		compareValidate(t, doc)
	})
}
