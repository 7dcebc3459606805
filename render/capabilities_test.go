package render

import (
	"runtime"
	"slices"
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"
)

// TestDefaultAPIVersionsLikeHelm compares our hard-coded API versions with
// the list Helm builds from the Kubernetes client scheme.
func TestDefaultAPIVersionsLikeHelm(t *testing.T) {
	t.Parallel()
	got, want := DefaultAPIVersions(), []string(chartutil.DefaultVersionSet)
	if !slices.Equal(got, want) {
		t.Errorf("API versions differ from Helm's:\nours: %q\nhelm: %q", got, want)
	}
	got[0] = "changed"
	if DefaultAPIVersions()[0] == "changed" {
		t.Error("DefaultAPIVersions shares its slice between calls")
	}
}

func TestDefaultCapabilities(t *testing.T) {
	t.Parallel()
	got, want := DefaultCapabilities(), engHelmCaps()
	if got.KubeVersion.Version != "v1.37.0" || got.KubeVersion.Major != "1" || got.KubeVersion.Minor != "37" {
		t.Errorf("KubeVersion = %+v", got.KubeVersion)
	}
	if got.KubeVersion.Version != want.KubeVersion.Version || got.KubeVersion.Major != want.KubeVersion.Major || got.KubeVersion.Minor != want.KubeVersion.Minor {
		t.Errorf("KubeVersion %+v, helm %+v", got.KubeVersion, want.KubeVersion)
	}
	h := want.HelmVersion
	if got.HelmVersion != (HelmVersion{Version: h.Version, GitCommit: h.GitCommit, GitTreeState: h.GitTreeState, GoVersion: h.GoVersion}) {
		t.Errorf("HelmVersion %+v, helm %+v", got.HelmVersion, h)
	}
	if got.HelmVersion.GoVersion != runtime.Version() || got.HelmVersion.Version != "v3.22.0" || got.HelmVersion.GitTreeState != "clean" {
		t.Errorf("HelmVersion = %+v", got.HelmVersion)
	}
	if cp := got.Copy(); cp == got || cp.KubeVersion != got.KubeVersion {
		t.Errorf("Copy = %+v", cp)
	}
}

func TestVersionSetHas(t *testing.T) {
	t.Parallel()
	vs := VersionSet{"v1", "apps/v1", "apps/v1/Deployment"}
	for _, tc := range []struct {
		v    string
		want bool
	}{{"v1", true}, {"apps/v1", true}, {"apps/v1/Deployment", true}, {"apps", false}, {"", false}, {"batch/v1", false}} {
		if got := vs.Has(tc.v); got != tc.want {
			t.Errorf("Has(%q) = %v", tc.v, got)
		}
	}
}

// engKubeVersionInputs are --kube-version values, good and bad.
var engKubeVersionInputs = []string{
	"1.37", "v1.37", "1.37.0", "v1.37.0", "1.30.2-eks-abc", "v1.30.2+k3s1", " \t\n1.2", "1.2 ",
	"1.2\n", "1.2.3.4", "1.02", "01.2", "0.1", "1", "v1", "", "v", "1.", "1..2", "1.2.", "V1.2",
	"vv1.2", "1.2x", "1.x", "x1.2", "99999999999999999999.1", "1.99999999999999999999",
	"18446744073709551615.1", "18446744073709551616.1", "1.2-\u00e9", "1.2\r", "\v1.2",
}

func TestParseKubeVersionLikeHelm(t *testing.T) {
	t.Parallel()
	for _, in := range engKubeVersionInputs {
		engCompareKubeVersion(t, in)
	}
}

func engCompareKubeVersion(t *testing.T, in string) {
	t.Helper()
	got, gotErr := ParseKubeVersion(in)
	want, wantErr := chartutil.ParseKubeVersion(in)
	if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
		t.Fatalf("ParseKubeVersion(%q) error %v, helm %v", in, gotErr, wantErr)
	}
	if gotErr != nil {
		return
	}
	if got.Version != want.Version || got.Major != want.Major || got.Minor != want.Minor {
		t.Errorf("ParseKubeVersion(%q) = %+v, helm %+v", in, *got, *want)
	}
}

func FuzzParseKubeVersion(f *testing.F) {
	for _, in := range engKubeVersionInputs {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		engCompareKubeVersion(t, in)
	})
}
