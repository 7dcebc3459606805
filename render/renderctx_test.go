package render

import (
	"errors"
	"reflect"
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"
)

// TestRenderValuesLikeHelm compares the top-level values with Helm's
// ToRenderValues for the same chart, values and release.
func TestRenderValuesLikeHelm(t *testing.T) {
	t.Parallel()
	p, err := engProcessPair(engHelmChart("rv", map[string]string{"values.yaml": "a: 1\nb: {c: [x]}\n", "templates/t.yaml": "x"}), map[string]any{"b": map[string]any{"d": true}})
	if err != nil {
		t.Fatal(err)
	}
	for _, rel := range []chartutil.ReleaseOptions{
		{Name: "r", Namespace: "ns", Revision: 3, IsUpgrade: true},
		{Name: "", Namespace: "", Revision: 0, IsInstall: true},
	} {
		want, err := chartutil.ToRenderValues(p.helm, p.vals, rel, engHelmCaps())
		if err != nil {
			t.Fatal(err)
		}
		caps := DefaultCapabilities()
		got, err := RenderValues(p.ours, p.vals, ReleaseOptions(rel), caps)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Errorf("keys %v, helm %v", reflect.ValueOf(got).MapKeys(), reflect.ValueOf(want).MapKeys())
		}
		if !reflect.DeepEqual(got["Release"], want["Release"]) {
			t.Errorf("Release %#v, helm %#v", got["Release"], want["Release"])
		}
		if gv, ok := got["Values"].(Values); !ok || !reflect.DeepEqual(map[string]any(gv), map[string]any(want["Values"].(chartutil.Values))) {
			t.Errorf("Values %#v, helm %#v", got["Values"], want["Values"])
		}
		if got["Capabilities"] != caps || got["Chart"] != p.ours.Metadata {
			t.Errorf("Capabilities or Chart not passed through")
		}
	}
	top, err := RenderValues(p.ours, nil, ReleaseOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := top["Values"].(Values); !ok || v == nil {
		t.Errorf("nil values give %#v, want an empty Values", top["Values"])
	}
	if c, ok := top["Capabilities"].(*Capabilities); !ok || c.KubeVersion.Version != "v1.37.0" {
		t.Errorf("nil capabilities give %#v", top["Capabilities"])
	}
}

// TestRenderValuesKubeVersion checks a chart's kubeVersion against the
// target as Helm's actions do.
func TestRenderValuesKubeVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		constraint, kube string
	}{
		{">=1.20.0", "v1.37.0"},
		{">=1.20.0-0", "v1.37.0"},
		{"<1.30", "v1.37.0"},
		{"~1.37", "v1.37.0"},
		{"1.37.x", "v1.37.0"},
		{">= 1.38", "v1.37.0"},
		{"not a range", "v1.37.0"},
		{">=1.20", "v1.29.0-eks"},
		{">=1.20.0-0", "v1.29.0-eks"},
		{">=1.20", "bogus"},
		{"", "v1.0.0"},
	}
	for _, tc := range tests {
		c := engFromHelm(engHelmChart("kv", nil))
		c.Metadata.KubeVersion = tc.constraint
		caps := DefaultCapabilities()
		caps.KubeVersion.Version = tc.kube
		err := CheckKubeVersion(c, caps)
		wantOK := tc.constraint == "" || chartutil.IsCompatibleRange(tc.constraint, tc.kube)
		if wantOK != (err == nil) {
			t.Errorf("%q against %s: err %v, helm compatible %v", tc.constraint, tc.kube, err, wantOK)
			continue
		}
		var kve *KubeVersionError
		if err != nil && (!errors.As(err, &kve) || kve.Constraint != tc.constraint || kve.KubeVersion != tc.kube || kve.Chart != "kv") {
			t.Errorf("%q: error %#v", tc.constraint, err)
		}
	}
}
