package cli_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pkg.dev/pkg/chart"
	"pkg.dev/pkg/repo"
)

// TestRegistryProvenanceWithHelm pushes signed charts to a real registry
// with helm and with pkg, and pulls each with the other's --verify: both
// accept the signed ones and refuse a tampered one, an unsigned one and
// an unknown signer, and pkg leaves nothing in the destination when it
// refuses.
func TestRegistryProvenanceWithHelm(t *testing.T) {
	helmRef(t)
	host := startRegistry(t, "", "")
	sb := newSandbox(t)
	work := t.TempDir()
	secring, pubring := writeKeyrings(t, work, "")
	_, other := writeKeyrings(t, t.TempDir(), "")
	hello := filepath.Join(chartsDir(t), "hello")
	signArgs := func(dest string) []string {
		return []string{"package", hello, "-d", dest, "--sign", "--key", "Chart Signer", "--keyring", secring}
	}
	remote := "oci://" + host

	// helm signs and pushes; pkg signs and pushes.
	hdir, pdir := filepath.Join(work, "helm"), filepath.Join(work, "pkg")
	if o := runHelm(t, sb, work, "", signArgs(hdir)...); o.code != 0 {
		t.Fatal(o.stderr)
	}
	if o := runPkg(t, sb, "", signArgs(pdir)...); o.code != 0 {
		t.Fatal(o.stderr)
	}
	if o := runHelm(t, sb, work, "", "push", filepath.Join(hdir, "hello-0.1.0.tgz"), remote+"/h", "--plain-http"); o.code != 0 {
		t.Fatal(o.stderr)
	}
	if o := runPkg(t, sb, "", "push", filepath.Join(pdir, "hello-0.1.0.tgz"), remote+"/p", "--plain-http"); o.code != 0 {
		t.Fatal(o.stderr)
	}
	// A tampered chart: other bytes beside the first one's .prov, pushed
	// by each.
	tdir := filepath.Join(work, "tampered")
	if o := runPkg(t, sb, "", signArgs(tdir)...); o.code != 0 {
		t.Fatal(o.stderr)
	}
	c, err := chart.Load(hello)
	if err != nil {
		t.Fatal(err)
	}
	c.Metadata.Description = "tampered"
	if _, err := chart.Save(c, tdir); err != nil {
		t.Fatal(err)
	}
	tampered := filepath.Join(tdir, "hello-0.1.0.tgz")
	if o := runPkg(t, sb, "", "push", tampered, remote+"/t", "--plain-http"); o.code != 0 {
		t.Fatal(o.stderr)
	}
	if o := runHelm(t, sb, work, "", "push", tampered, remote+"/ht", "--plain-http"); o.code != 0 {
		t.Fatal(o.stderr)
	}
	// An unsigned chart.
	udir := filepath.Join(work, "unsigned")
	if o := runPkg(t, sb, "", "package", filepath.Join(chartsDir(t), "nested"), "-d", udir); o.code != 0 {
		t.Fatal(o.stderr)
	}
	if o := runPkg(t, sb, "", "push", filepath.Join(udir, "nested-1.0.0.tgz"), remote+"/u", "--plain-http"); o.code != 0 {
		t.Fatal(o.stderr)
	}

	// pkg's manifest carries the .prov as Helm's provenance layer, next
	// to the chart layer, as helm's does.
	t.Run("manifest", func(t *testing.T) {
		layers := func(path string) []string {
			req, _ := http.NewRequest("GET", "http://"+host+"/v2/"+path+"/hello/manifests/0.1.0", nil)
			req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var m struct {
				Layers []struct{ MediaType, Digest string }
			}
			if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, l := range m.Layers {
				out = append(out, l.MediaType)
			}
			return out
		}
		h, p := layers("h"), layers("p")
		if len(p) != 2 || !strings.Contains(strings.Join(p, " "), repo.OCIProvLayerMediaType) {
			t.Errorf("pkg's layers: %v", p)
		}
		if len(h) != 2 {
			t.Errorf("helm's layers: %v", h)
		}
	})

	cases := []struct {
		name  string
		args  []string
		ok    bool
		files string // what pkg leaves in the destination
		fail  string // part of pkg's error
	}{
		{"helm pushed", []string{remote + "/h/hello", "--version", "0.1.0", "--verify"}, true, "hello-0.1.0.tgz hello-0.1.0.tgz.prov", ""},
		{"pkg pushed", []string{remote + "/p/hello", "--version", "0.1.0", "--verify"}, true, "hello-0.1.0.tgz hello-0.1.0.tgz.prov", ""},
		{"by tag", []string{remote + "/p/hello:0.1.0", "--verify"}, true, "hello-0.1.0.tgz hello-0.1.0.tgz.prov", ""},
		{"untar", []string{remote + "/h/hello", "--verify", "--untar"}, true, "hello", ""},
		{"prov only", []string{remote + "/p/hello", "--prov"}, true, "hello-0.1.0.tgz hello-0.1.0.tgz.prov", ""},
		{"tampered, pushed by pkg", []string{remote + "/t/hello", "--version", "0.1.0", "--verify"}, false, "",
			`verifying chart "hello-0.1.0.tgz" from ` + remote + `/t/hello:0.1.0: sha256 sum does not match for hello-0.1.0.tgz`},
		{"tampered, pushed by helm", []string{remote + "/ht/hello", "--version", "0.1.0", "--verify"}, false, "", "sha256 sum does not match"},
		{"unsigned, --verify", []string{remote + "/u/nested", "--verify"}, false, "",
			`failed to fetch provenance "` + remote + `/u/nested:1.0.0.prov" of chart "nested-1.0.0.tgz": manifest does not contain a layer with mediatype application/vnd.cncf.helm.chart.provenance.v1.prov`},
		{"unsigned, --prov", []string{remote + "/u/nested", "--prov"}, true, "nested-1.0.0.tgz", ""},
		{"unknown signer", []string{remote + "/p/hello", "--verify", "--keyring", other}, false, "", "openpgp: signature made by unknown entity"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hdest, pdest := t.TempDir(), t.TempDir()
			args := append([]string{"pull", "--plain-http", "--keyring", pubring}, tc.args...)
			h := runHelm(t, sb, work, "", append(args, "-d", hdest)...)
			p := runPkg(t, sb, "", append(args, "-d", pdest)...)
			if (h.code == 0) != tc.ok || (p.code == 0) != tc.ok {
				t.Fatalf("exit status: helm %d, pkg %d, want success %v\nhelm: %s\npkg: %s", h.code, p.code, tc.ok, h.stderr, p.stderr)
			}
			if h.stdout != p.stdout {
				t.Errorf("standard output:\nhelm: %q\npkg:  %q", h.stdout, p.stdout)
			}
			if got := names(t, pdest); got != tc.files {
				t.Errorf("pkg left %q, want %q", got, tc.files)
			}
			if tc.fail != "" && !strings.Contains(p.stderr, tc.fail) {
				t.Errorf("pkg's error %q lacks %q", p.stderr, tc.fail)
			}
			if tc.ok && tc.files != "hello" {
				for _, f := range strings.Fields(tc.files) {
					hb, _ := os.ReadFile(filepath.Join(hdest, f))
					pb, _ := os.ReadFile(filepath.Join(pdest, f))
					if len(hb) == 0 || string(hb) != string(pb) {
						t.Errorf("%s differs from helm's", f)
					}
				}
			}
		})
	}

	t.Run("template", func(t *testing.T) {
		for _, tc := range []struct {
			ref string
			ok  bool
		}{{remote + "/p/hello", true}, {remote + "/h/hello", true}, {remote + "/t/hello", false}, {remote + "/u/nested", false}} {
			args := []string{"template", "rel", tc.ref, "--plain-http", "--verify", "--keyring", pubring}
			h := runHelm(t, sb, work, "", args...)
			p := runPkg(t, sb, "", args...)
			if (h.code == 0) != tc.ok || (p.code == 0) != tc.ok || h.stdout != p.stdout {
				t.Errorf("%s: helm %d %s / pkg %d %s", tc.ref, h.code, h.stderr, p.code, p.stderr)
			}
		}
	})

	t.Run("dependencies", func(t *testing.T) {
		for _, tc := range []struct {
			path string
			ok   bool
		}{{"p", true}, {"h", true}, {"t", false}} {
			for _, who := range []string{"helm", "pkg"} {
				dir := filepath.Join(t.TempDir(), "app")
				os.MkdirAll(dir, 0o755)
				os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte("apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n- name: hello\n  version: 0.1.0\n  repository: "+remote+"/"+tc.path+"\n"), 0o644)
				args := []string{"dependency", "update", dir, "--plain-http", "--verify", "--keyring", pubring}
				var o outcome
				if who == "helm" {
					o = runHelm(t, sb, work, "", args...)
				} else {
					o = runPkg(t, sb, "", args...)
				}
				if (o.code == 0) != tc.ok {
					t.Errorf("%s dependency update --verify from %s: exit %d: %s", who, tc.path, o.code, o.stderr)
				}
				if who == "pkg" && !tc.ok {
					if _, err := os.Stat(filepath.Join(dir, "charts")); err == nil && names(t, filepath.Join(dir, "charts")) != "" {
						t.Errorf("pkg left %q in charts/", names(t, filepath.Join(dir, "charts")))
					}
				}
			}
		}
	})
}
