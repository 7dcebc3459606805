package render_test

// The differential parity suite: every case of parityCases (in
// parity_helm_test.go, next to Helm's side) is rendered by Helm v3.22.0
// in-process and by our render package, and the outputs must be identical
// bytes, except the lines Helm draws at random in charts marked random.
// Where Helm fails, we must fail too, naming the same file and line.

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"pkg.dev/pkg/chart"
	"pkg.dev/pkg/render"
)

// ourTemplate renders chartDir with pkg as `pkg template` does, with the
// options of tc, and returns what the command prints on stdout. Values are
// merged before the chart is loaded, as Helm does, so that when both are
// wrong the same error comes first.
func ourTemplate(t *testing.T, chartDir string, tc parityCase) (string, error) {
	t.Helper()
	var files []string
	for _, f := range tc.valueFiles {
		files = append(files, valuesPath(t, f))
	}
	vals, err := render.ValueOptions{ValueFiles: files, Values: tc.set, StringValues: tc.setString}.Merge(os.ReadFile)
	if err != nil {
		return "", err
	}
	c, err := chart.Load(chartDir)
	if err != nil {
		return "", err
	}
	if typ := c.Metadata.Type; typ != "" && typ != chart.TypeApplication {
		return "", fmt.Errorf("%s charts are not installable", typ)
	}
	if err := render.CheckDependencies(c); err != nil {
		return "", err
	}
	caps := render.DefaultCapabilities()
	if tc.kube() != "" {
		kv, err := render.ParseKubeVersion(tc.kube())
		if err != nil {
			return "", err
		}
		caps.KubeVersion = *kv
	}
	caps.APIVersions = append(caps.APIVersions, tc.apiVersions...)
	res, err := render.Template(c, vals, render.Options{
		ReleaseName:  tc.release(),
		Namespace:    tc.ns(),
		Revision:     1,
		IsUpgrade:    tc.isUpgrade,
		Capabilities: caps,
		IncludeCRDs:  tc.includeCRDs,
	})
	if err != nil {
		return "", err
	}
	return render.TemplateOutput(res.Manifest, res.Hooks, render.OutputOptions{
		DisableHooks: tc.disableHooks,
		SkipTests:    tc.skipTests,
		ShowOnly:     tc.showOnly,
	})
}

func TestParity(t *testing.T) {
	quietHelmLog(t)
	charts := filepath.Join(testdataDir(t), "charts")
	for _, tc := range parityCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(charts, filepath.FromSlash(tc.chart))
			want, helmErr := helmTemplate(t, dir, tc)
			got, ourErr := ourTemplate(t, dir, tc)

			if helmErr != nil || ourErr != nil {
				compareErrors(t, tc, helmErr, ourErr)
				return
			}
			if tc.wantErr {
				t.Fatal("both succeeded on a case marked wantErr")
			}
			if !tc.random {
				if got != want {
					t.Fatalf("output differs from helm template: %v", firstDifference(want, got))
				}
				return
			}
			if err := compareRandomAware(want, got); err != nil {
				t.Fatalf("output differs from helm template: %v", err)
			}
			again, err := helmTemplate(t, dir, tc)
			if err != nil {
				t.Fatalf("second helm render: %v", err)
			}
			if err := checkStableLines(want, again, got); err != nil {
				t.Fatalf("output differs from helm template on a line Helm renders the same every time: %v", err)
			}
		})
	}
}

// compareErrors requires both sides to fail, and our error to name the
// same outermost and innermost chart file and line as Helm's does.
func compareErrors(t *testing.T, tc parityCase, helmErr, ourErr error) {
	t.Helper()
	switch {
	case helmErr == nil:
		t.Fatalf("helm succeeded, pkg failed: %v", ourErr)
	case ourErr == nil:
		t.Fatalf("helm failed, pkg succeeded; helm said: %v", helmErr)
	case !tc.wantErr:
		t.Fatalf("both failed on a case not marked wantErr\nhelm: %v\npkg:  %v", helmErr, ourErr)
	}
	hl, ol := errorSites(helmErr.Error()), errorSites(ourErr.Error())
	if len(hl) == 0 {
		return
	}
	if len(ol) == 0 {
		t.Fatalf("helm's error names %s, ours names no file\nhelm: %.500s\npkg:  %.500s", hl[0], helmErr, ourErr)
	}
	if hl[0] != ol[0] || hl[len(hl)-1] != ol[len(ol)-1] {
		t.Fatalf("error locations differ: helm %s … %s, pkg %s … %s\nhelm: %.500s\npkg:  %.500s",
			hl[0], hl[len(hl)-1], ol[0], ol[len(ol)-1], helmErr, ourErr)
	}
}
