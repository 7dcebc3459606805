package render

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/release"
	helmtime "helm.sh/helm/v3/pkg/time"
)

func TestHookJSONMatchesHelm(t *testing.T) {
	t.Parallel()
	started := time.Date(2026, 3, 4, 5, 6, 7, 8, time.FixedZone("x", 3600))
	ours := []Hook{
		{},
		{
			Name: "migrate", Kind: "Job", Path: "c/templates/job.yaml", Manifest: "kind: Job\n",
			Events:            []HookEvent{HookPreInstall, HookTest},
			LastRun:           HookExecution{StartedAt: HookTime{started}, CompletedAt: HookTime{started.Add(time.Minute)}, Phase: HookPhaseSucceeded},
			Weight:            -5,
			DeletePolicies:    []HookDeletePolicy{HookBeforeHookCreation, HookSucceeded, ""},
			OutputLogPolicies: []HookOutputLogPolicy{HookOutputOnFailed},
		},
		{Name: "running", Events: []HookEvent{HookPostDelete}, LastRun: HookExecution{StartedAt: HookTime{started}, Phase: HookPhaseRunning}},
	}
	helms := []release.Hook{
		{},
		{
			Name: "migrate", Kind: "Job", Path: "c/templates/job.yaml", Manifest: "kind: Job\n",
			Events:            []release.HookEvent{release.HookPreInstall, release.HookTest},
			LastRun:           release.HookExecution{StartedAt: helmtime.Time{Time: started}, CompletedAt: helmtime.Time{Time: started.Add(time.Minute)}, Phase: release.HookPhaseSucceeded},
			Weight:            -5,
			DeletePolicies:    []release.HookDeletePolicy{release.HookBeforeHookCreation, release.HookSucceeded, ""},
			OutputLogPolicies: []release.HookOutputLogPolicy{release.HookOutputOnFailed},
		},
		{Name: "running", Events: []release.HookEvent{release.HookPostDelete}, LastRun: release.HookExecution{StartedAt: helmtime.Time{Time: started}, Phase: release.HookPhaseRunning}},
	}
	for i := range ours {
		got, err := json.Marshal(ours[i])
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(helms[i])
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("hook %d:\n got  %s\n helm %s", i, got, want)
		}
		// Helm's records must read back into ours unchanged.
		var back Hook
		if err := json.Unmarshal(want, &back); err != nil {
			t.Fatalf("hook %d: %v", i, err)
		}
		again, err := json.Marshal(back)
		if err != nil {
			t.Fatal(err)
		}
		if string(again) != string(want) {
			t.Errorf("hook %d round trip:\n got  %s\n want %s", i, again, want)
		}
	}
}

func TestHookTimeJSON(t *testing.T) {
	t.Parallel()
	for _, in := range []string{`""`, `null`, `"2026-03-04T05:06:07Z"`} {
		var ht HookTime
		if err := json.Unmarshal([]byte(in), &ht); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		var hh helmtime.Time
		if err := json.Unmarshal([]byte(in), &hh); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if !ht.Equal(hh.Time) {
			t.Errorf("%s: got %v, Helm %v", in, ht, hh)
		}
	}
	if err := json.Unmarshal([]byte(`"yesterday"`), new(HookTime)); err == nil {
		t.Error("decoded a time that is not RFC 3339")
	}
}

func TestHookEventNamed(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]HookEvent{
		"pre-install": HookPreInstall, "post-install": HookPostInstall,
		"pre-delete": HookPreDelete, "post-delete": HookPostDelete,
		"pre-upgrade": HookPreUpgrade, "post-upgrade": HookPostUpgrade,
		"pre-rollback": HookPreRollback, "post-rollback": HookPostRollback,
		"test": HookTest, "test-success": HookTest,
		"": "", "Pre-Install": "", "test-failure": "", "crd-install": "",
	} {
		got, ok := hookEventNamed(name)
		if got != want || ok != (want != "") {
			t.Errorf("hookEventNamed(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
}

func TestSortHooksByWeight(t *testing.T) {
	t.Parallel()
	hooks := []*Hook{
		{Name: "b", Weight: 0, Kind: "Job"},
		{Name: "a", Weight: 5, Kind: "Pod"},
		{Name: "c", Weight: -1, Kind: "Secret"},
		{Name: "a", Weight: 0, Kind: "Job"},
		{Name: "a", Weight: 0, Kind: "ConfigMap"},
		{Name: "b", Weight: 0, Kind: "Service"},
	}
	SortHooksByWeight(hooks)
	var got []string
	for _, h := range hooks {
		got = append(got, h.Name+"/"+h.Kind)
	}
	want := []string{"c/Secret", "a/Job", "a/ConfigMap", "b/Job", "b/Service", "a/Pod"}
	if !slices.Equal(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
}
