package release

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	helmchart "helm.sh/helm/v3/pkg/chart"
	helmrelease "helm.sh/helm/v3/pkg/release"
	helmstorage "helm.sh/helm/v3/pkg/storage"
	helmdriver "helm.sh/helm/v3/pkg/storage/driver"
	helmtime "helm.sh/helm/v3/pkg/time"
	"k8s.io/client-go/kubernetes"

	"pkg.dev/pkg/chart"
	"pkg.dev/pkg/internal/helmtest"
	"pkg.dev/pkg/internal/testcluster"
	"pkg.dev/pkg/render"
)

// sampleRelease is a record with every field Helm stores set.
func sampleRelease(t testing.TB, name string, version int, status Status) *Release {
	t.Helper()
	c, err := chart.LoadDir(filepath.Join(helmtest.ModuleRoot(t), "testdata/charts/hello"))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 27, 3, 4, 5, 123456789, time.UTC)
	return &Release{
		Name:      name,
		Namespace: "default",
		Version:   version,
		Chart:     StoredChart(c),
		Config:    map[string]any{"replicas": float64(3), "image": map[string]any{"tag": "v2"}},
		Manifest:  "---\n# Source: hello/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
		Hooks: []*render.Hook{{
			Name: "pre", Kind: "Job", Path: "hello/templates/job.yaml", Manifest: "kind: Job",
			Events: []render.HookEvent{render.HookPreInstall}, Weight: -5,
			DeletePolicies: []render.HookDeletePolicy{render.HookSucceeded},
			LastRun:        render.HookExecution{StartedAt: Time{Time: at}, CompletedAt: Time{Time: at.Add(time.Second)}, Phase: render.HookPhaseSucceeded},
		}},
		Labels: map[string]string{"team": "web"},
		Info: &Info{
			FirstDeployed: Time{Time: at}, LastDeployed: Time{Time: at.Add(time.Minute)},
			Status: status, Description: "Install complete", Notes: "hello notes",
		},
	}
}

// TestStorageRoundTripWithHelm writes records with pkg's Secrets and
// ConfigMaps drivers and reads them with Helm's storage package, and the
// reverse, against a real API server: the JSON of every record must be
// the same in both.
func TestStorageRoundTripWithHelm(t *testing.T) {
	t.Parallel()
	tc := testcluster.Start(t)
	cs, err := kubernetes.NewForConfig(tc.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := func() time.Time { return time.Unix(1800000000, 0) }
	for _, kind := range []string{"secret", "configmap"} {
		t.Run(kind, func(t *testing.T) {
			var ours Driver
			var theirs helmdriver.Driver
			if kind == "secret" {
				ours = NewSecretsDriver(cs.CoreV1(), "default", now, nil)
				theirs = helmdriver.NewSecrets(cs.CoreV1().Secrets("default"))
			} else {
				ours = NewConfigMapsDriver(cs.CoreV1(), "default", now, nil)
				theirs = helmdriver.NewConfigMaps(cs.CoreV1().ConfigMaps("default"))
			}
			hs := helmstorage.Init(theirs)

			// pkg writes, Helm reads.
			st := NewStorage(ours)
			for v := 1; v <= 3; v++ {
				status := StatusSuperseded
				if v == 3 {
					status = StatusDeployed
				}
				if err := st.Create(ctx, sampleRelease(t, "ours-"+kind, v, status)); err != nil {
					t.Fatal(err)
				}
			}
			hist, err := hs.History("ours-" + kind)
			if err != nil || len(hist) != 3 {
				t.Fatalf("helm history: %d records, %v", len(hist), err)
			}
			dep, err := hs.Deployed("ours-" + kind)
			if err != nil || dep.Version != 3 {
				t.Fatalf("helm deployed: %v, %v", dep, err)
			}
			sameJSON(t, dep, sampleRelease(t, "ours-"+kind, 3, StatusDeployed))
			if dep.Labels["team"] != "web" {
				t.Errorf("helm sees labels %v, want team=web", dep.Labels)
			}

			// Helm writes, pkg reads.
			h := helmRelease(t, "theirs-"+kind)
			if err := hs.Create(h); err != nil {
				t.Fatal(err)
			}
			got, err := st.Deployed(ctx, "theirs-"+kind)
			if err != nil {
				t.Fatal(err)
			}
			sameJSON(t, h, got)
			if got.Labels["team"] != "db" || len(got.Labels) != 1 {
				t.Errorf("pkg reads labels %v, want only team=db", got.Labels)
			}
			// pkg updates Helm's record; Helm reads it back.
			got.Info.Status = StatusSuperseded
			if err := st.Update(ctx, got); err != nil {
				t.Fatal(err)
			}
			back, err := hs.Get("theirs-"+kind, 1)
			if err != nil || back.Info.Status != helmrelease.StatusSuperseded {
				t.Fatalf("helm reads %v, %v after pkg's update", back, err)
			}
		})
	}
}

func helmRelease(t *testing.T, name string) *helmrelease.Release {
	t.Helper()
	at := helmtime.Time{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	return &helmrelease.Release{
		Name: name, Namespace: "default", Version: 1,
		Info: &helmrelease.Info{FirstDeployed: at, LastDeployed: at, Status: helmrelease.StatusDeployed, Description: "Install complete"},
		Chart: &helmchart.Chart{
			Metadata:  &helmchart.Metadata{Name: "db", Version: "1.2.3", APIVersion: "v2", AppVersion: "9"},
			Templates: []*helmchart.File{{Name: "templates/a.yaml", Data: []byte("kind: A")}},
			Values:    map[string]any{"a": "b"},
		},
		Config:   map[string]any{"x": float64(1)},
		Manifest: "---\nkind: A\n",
		Labels:   map[string]string{"team": "db"},
	}
}

// sameJSON fails unless a and b encode to the same JSON.
func sameJSON(t *testing.T, a, b any) {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if string(ja) != string(jb) {
		t.Errorf("records differ:\n%s\n%s", ja, jb)
	}
}
