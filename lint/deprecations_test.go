package lint

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/endpoints/deprecation"

	"pkg.dev/pkg/render"
)

// helmDeprecation is what Helm's deprecated-API rule says about an object
// with this apiVersion and kind for Kubernetes major.minor: "" when it
// says nothing.
func helmDeprecation(t *testing.T, s *runtime.Scheme, apiVersion, kind string, major, minor int) string {
	t.Helper()
	gvk := schema.FromAPIVersionAndKind(apiVersion, kind)
	obj, err := s.New(gvk)
	if err != nil {
		return ""
	}
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	if !deprecation.IsDeprecated(obj, major, minor) {
		return ""
	}
	return deprecation.WarningMessage(obj)
}

func ourDeprecation(apiVersion, kind string, major, minor int) string {
	c := newDeprecationChecker(&render.KubeVersion{Major: fmt.Sprint(major), Minor: fmt.Sprint(minor)})
	err := c.check(&K8sYamlStruct{APIVersion: apiVersion, Kind: kind})
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestDeprecationsMatchKubernetes asks Kubernetes' own deprecation logic
// and ours about every registered kind, for a range of releases.
func TestDeprecationsMatchKubernetes(t *testing.T) {
	releases := [][2]int{{0, 0}, {1, 0}, {1, 8}, {1, 16}, {1, 19}, {1, 20}, {1, 21}, {1, 22}, {1, 25}, {1, 29}, {1, 32}, {1, 33}, {1, 35}, {1, 37}, {1, 38}, {1, 99}, {2, 0}}
	checked, flagged := 0, 0
	s := helmScheme(t)
	for gvk := range s.AllKnownTypes() {
		spellings := []string{gvk.GroupVersion().String()}
		if gvk.Group == "" {
			spellings = append(spellings, "/"+gvk.Version)
		}
		for _, av := range spellings {
			for _, r := range releases {
				want := helmDeprecation(t, s, av, gvk.Kind, r[0], r[1])
				got := ourDeprecation(av, gvk.Kind, r[0], r[1])
				checked++
				if want != "" {
					flagged++
				}
				if got != want {
					t.Errorf("%s %s at %d.%d: got %q, want %q", av, gvk.Kind, r[0], r[1], got, want)
				}
			}
		}
	}
	if flagged == 0 {
		t.Fatalf("no deprecation found among %d checks", checked)
	}
}

// TestDeprecationOddObjects covers objects Kubernetes does not know.
func TestDeprecationOddObjects(t *testing.T) {
	tests := []struct{ apiVersion, kind string }{
		{"", "Ingress"},
		{"extensions/v1beta1", ""},
		{"extensions/v1beta1/x", "Ingress"},
		{"/", "Ingress"},
		{"extensions/v1beta1", "ingress"},
		{"example.com/v1", "Widget"},
		{"policy/v1beta1", "PodSecurityPolicy"},
	}
	for _, tt := range tests {
		t.Run(tt.apiVersion+" "+tt.kind, func(t *testing.T) {
			t.Parallel()
			want := helmDeprecation(t, helmScheme(t), tt.apiVersion, tt.kind, 1, 37)
			if tt.apiVersion == "" || tt.kind == "" {
				want = ""
			}
			if got := ourDeprecation(tt.apiVersion, tt.kind, 1, 37); got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

func TestDeprecationDefaultRelease(t *testing.T) {
	c := newDeprecationChecker(nil)
	if c.major != "1" || c.minor != "37" {
		t.Fatalf("default release %s.%s, want 1.37", c.major, c.minor)
	}
	bad := &deprecationChecker{kinds: deprecatedKinds(), major: "1", minor: "x"}
	err := bad.check(&K8sYamlStruct{APIVersion: "extensions/v1beta1", Kind: "Ingress"})
	if err == nil || err.Error() != `strconv.Atoi: parsing "x": invalid syntax` {
		t.Fatalf("bad minor: got %v", err)
	}
}
