package render

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/releaseutil"
)

func TestKindOrdersMatchHelm(t *testing.T) {
	t.Parallel()
	if got, want := InstallOrder(), []string(releaseutil.InstallOrder); !slices.Equal(got, KindSortOrder(want)) {
		t.Errorf("InstallOrder = %v\nHelm's       %v", got, want)
	}
	if got, want := UninstallOrder(), []string(releaseutil.UninstallOrder); !slices.Equal(got, KindSortOrder(want)) {
		t.Errorf("UninstallOrder = %v\nHelm's         %v", got, want)
	}
	o := InstallOrder()
	o[0] = "Changed"
	if InstallOrder()[0] != "PriorityClass" {
		t.Error("InstallOrder returned a shared slice")
	}
}

func TestSortManifestsMatchesHelmOnGeneratedCharts(t *testing.T) {
	t.Parallel()
	files := genRenderedCharts(12)
	for _, tc := range []struct {
		name  string
		order KindSortOrder
	}{
		{"install", InstallOrder()},
		{"uninstall", UninstallOrder()},
		{"empty order", nil},
		{"custom order", KindSortOrder{"Job", "Pod", "Service", "Job"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hooks, manifests, err := SortManifests(files, tc.order)
			hHooks, hManifests, hErr := helmSortManifests(files, tc.order)
			if d := diffSortResults(hooks, manifests, err, hHooks, hManifests, hErr); d != "" {
				t.Fatal(d)
			}
			if len(hooks) == 0 || len(manifests) == 0 {
				t.Fatalf("got %d hooks and %d manifests, want some of each", len(hooks), len(manifests))
			}
		})
	}
}

// sortCase is one SortManifests input with what it must give.
type sortCase struct {
	name  string
	files map[string]string
	// want lists the results, one line per hook ("hook KIND NAME
	// EVENTS WEIGHT DELETE LOGS") then per manifest ("KIND NAME PATH").
	want []string
	// wantErr is the error text, when one is expected.
	wantErr string
}

// describeSort renders SortManifests results in the form of sortCase.want.
func describeSort(hooks []*Hook, manifests []Manifest) []string {
	var out []string
	for _, h := range hooks {
		out = append(out, fmt.Sprintf("hook %s %s %v %d %v %v", h.Kind, h.Name, h.Events, h.Weight, h.DeletePolicies, h.OutputLogPolicies))
	}
	for _, m := range manifests {
		name := ""
		if m.Head.Metadata != nil {
			name = m.Head.Metadata.Name
		}
		out = append(out, fmt.Sprintf("%s %s %s", m.Head.Kind, name, m.Name))
	}
	return out
}

func TestSortManifests(t *testing.T) {
	t.Parallel()
	cases := []sortCase{
		{
			name: "kinds in install order, unknown kinds last by name, stable within a kind",
			files: map[string]string{
				"c/templates/b.yaml": "kind: Deployment\nmetadata:\n  name: d1\n---\nkind: Widget\nmetadata:\n  name: w1\n---\nkind: Namespace\nmetadata:\n  name: ns\n",
				"c/templates/a.yaml": "kind: Deployment\nmetadata:\n  name: d0\n---\nkind: Alpha\nmetadata:\n  name: a0\n---\nkind: Widget\nmetadata:\n  name: w0\n",
				"c/templates/z.yaml": "kind: CustomResourceDefinition\nmetadata:\n  name: crd\n---\n# only a comment\n",
			},
			want: []string{
				"Namespace ns c/templates/b.yaml",
				"CustomResourceDefinition crd c/templates/z.yaml",
				"Deployment d0 c/templates/a.yaml",
				"Deployment d1 c/templates/b.yaml",
				"  c/templates/z.yaml",
				"Alpha a0 c/templates/a.yaml",
				"Widget w0 c/templates/a.yaml",
				"Widget w1 c/templates/b.yaml",
			},
		},
		{
			name: "partials, notes and blank templates are skipped",
			files: map[string]string{
				"c/templates/_helpers.tpl":         "kind: Secret\n",
				"c/templates/NOTES.txt":            "Thank you: for installing\n",
				"c/charts/sub/templates/NOTES.txt": "sub notes",
				"c/templates/empty.yaml":           " \n\t\n",
				"c/templates/cm.yaml":              "kind: ConfigMap\nmetadata:\n  name: cm\n",
			},
			want: []string{"ConfigMap cm c/templates/cm.yaml"},
		},
		{
			name: "hooks: events, weights, policies",
			files: map[string]string{
				"c/templates/hooks.yaml": `kind: Job
metadata:
  name: migrate
  annotations:
    helm.sh/hook: " Pre-Install , pre-upgrade"
    helm.sh/hook-weight: "-5"
    helm.sh/hook-delete-policy: before-hook-creation, Hook-Succeeded
---
kind: Pod
metadata:
  name: smoke
  annotations:
    helm.sh/hook: test-success
    helm.sh/hook-weight: "1.5"
    helm.sh/hook-output-log-policy: hook-failed
---
kind: ConfigMap
metadata:
  name: unknown-event
  annotations:
    helm.sh/hook: pre-install,sometime
---
kind: ConfigMap
metadata:
  name: empty-event
  annotations:
    helm.sh/hook: ""
---
kind: ConfigMap
metadata:
  name: not-a-hook
  annotations:
    helm.sh/hook-weight: "3"
---
kind: Secret
metadata:
  name: weight-number
  annotations:
    helm.sh/hook: post-install
    helm.sh/hook-weight: 7
    helm.sh/hook-delete-policy: ""
`,
			},
			want: []string{
				"hook Secret weight-number [post-install] 7 [] []",
				"hook Pod smoke [test] 0 [] [hook-failed]",
				"hook Job migrate [pre-install pre-upgrade] -5 [before-hook-creation hook-succeeded] []",
				"ConfigMap not-a-hook c/templates/hooks.yaml",
			},
		},
		{
			name: "a document that is a list fails with Helm's error",
			files: map[string]string{
				"c/templates/a.yaml":    "kind: ConfigMap\nmetadata:\n  name: first\n",
				"c/templates/list.yaml": "kind: ConfigMap\n---\n- a\n- b\n",
			},
			wantErr: "YAML parse error on c/templates/list.yaml: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type releaseutil.SimpleHead",
		},
		{
			name: "a syntax error fails with Helm's error",
			files: map[string]string{
				"c/templates/bad.yaml": "kind: ConfigMap\nmetadata:\n  name: x\n   labels: {}\n",
			},
			wantErr: "YAML parse error on c/templates/bad.yaml: error converting YAML to JSON: yaml: line 4: mapping values are not allowed in this context",
		},
		{
			name: "a head field of the wrong type",
			files: map[string]string{
				"c/templates/bad.yaml": "kind: [a]\n",
			},
			wantErr: "YAML parse error on c/templates/bad.yaml: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go struct field SimpleHead.kind of type string",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hooks, manifests, err := SortManifests(tc.files, InstallOrder())
			hHooks, hManifests, hErr := helmSortManifests(tc.files, InstallOrder())
			if d := diffSortResults(hooks, manifests, err, hHooks, hManifests, hErr); d != "" {
				t.Errorf("differs from Helm: %s", d)
			}
			if tc.wantErr != "" {
				var pe *ManifestParseError
				if err == nil || err.Error() != tc.wantErr || !errors.As(err, &pe) {
					t.Fatalf("error = %v, want %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := describeSort(hooks, manifests); !slices.Equal(got, tc.want) {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}
