package kube

import (
	"slices"
	"sort"
	"testing"
	"time"

	helmaction "helm.sh/helm/v3/pkg/action"
	"k8s.io/client-go/discovery"

	"pkg.dev/pkg/internal/testcluster"
	"pkg.dev/pkg/release"
	"pkg.dev/pkg/render"
)

// Capabilities agree with what Helm's own GetVersionSet and /version give
// for the same server, and see a CRD installed after the first call.
func TestCapabilitiesMatchHelm(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts an API server; skipped under -short")
	}
	cl := testcluster.Start(t)
	c, err := New(cl.Config, Options{PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cl.Config)
	if err != nil {
		t.Fatal(err)
	}
	check := func(wantKind string) {
		t.Helper()
		caps, err := c.Capabilities(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		sv, err := dc.ServerVersion()
		if err != nil {
			t.Fatal(err)
		}
		if caps.KubeVersion.Version != sv.GitVersion || caps.KubeVersion.Major != sv.Major || caps.KubeVersion.Minor != sv.Minor {
			t.Errorf("KubeVersion %+v, server says %s %s.%s", caps.KubeVersion, sv.GitVersion, sv.Major, sv.Minor)
		}
		if caps.HelmVersion != render.DefaultCapabilities().HelmVersion {
			t.Errorf("HelmVersion %+v", caps.HelmVersion)
		}
		helmSet, err := helmaction.GetVersionSet(dc)
		if err != nil {
			t.Fatal(err)
		}
		want := []string(helmSet)
		sort.Strings(want)
		got := []string(caps.APIVersions)
		if !slices.Equal(got, want) {
			t.Errorf("APIVersions differ from Helm's:\n got %q\nwant %q", got, want)
		}
		for _, v := range []string{"v1", "apps/v1", "v1/ConfigMap", "apps/v1/Deployment", wantKind} {
			if !caps.APIVersions.Has(v) {
				t.Errorf("APIVersions lack %q", v)
			}
		}
	}
	check("batch/v1/Job")
	crd, err := c.Build(ctx(t), crdWidgets, "default")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx(t), crd); err != nil {
		t.Fatal(err)
	}
	if err := c.Wait(ctx(t), crd, release.WaitOptions{Timeout: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	check("example.com/v1/Widget")
}
