package cli_test

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	xbcrypt "golang.org/x/crypto/bcrypt"

	"pkg.dev/pkg/chart"
)

// startRegistry runs Debian's docker-registry (CNCF Distribution) on a
// free loopback port with a generated configuration, with basic auth when
// user is set, and returns its host:port. It skips when the program is
// missing, unless PKG_REQUIRE_REGISTRY=1.
func startRegistry(t *testing.T, user, password string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a registry; skipped under -short")
	}
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		for _, p := range []string{"/usr/bin/docker-registry", "/usr/sbin/docker-registry"} {
			if _, e := os.Stat(p); e == nil {
				bin, err = p, nil
			}
		}
	}
	if err != nil {
		msg := "docker-registry not found (apt-get install docker-registry)"
		if os.Getenv("PKG_REQUIRE_REGISTRY") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	auth := ""
	if user != "" {
		hash, err := xbcrypt.GenerateFromPassword([]byte(password), xbcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "htpasswd"), []byte(user+":"+string(hash)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		auth = fmt.Sprintf("auth:\n  htpasswd:\n    realm: pkg-test\n    path: %s\n", filepath.Join(dir, "htpasswd"))
	}
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
%s`, filepath.Join(dir, "data"), addr, auth)
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cmd := exec.Command(bin, "serve", cfgPath)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("registry log:\n%s", logs.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("registry did not start: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRegistryPushPullMatchHelm pushes charts with pkg and helm to a real
// registry and pulls each with the other.
func TestRegistryPushPullMatchHelm(t *testing.T) {
	helmRef(t)
	host := startRegistry(t, "", "")
	sb := newSandbox(t)
	work := t.TempDir()
	pkgd := filepath.Join(work, "pkg")
	if o := runPkg(t, sb, "", "package", filepath.Join(chartsDir(t), "hello"), "-d", pkgd); o.code != 0 {
		t.Fatal(o.stderr)
	}
	helmd := filepath.Join(work, "helm")
	if o := runHelm(t, sb, work, "", "package", filepath.Join(chartsDir(t), "nested"), "-d", helmd); o.code != 0 {
		t.Fatal(o.stderr)
	}
	hello := filepath.Join(pkgd, "hello-0.1.0.tgz")
	nested := filepath.Join(helmd, "nested-1.0.0.tgz")
	remote := "oci://" + host + "/charts"

	o := runPkg(t, sb, "", "push", hello, remote, "--plain-http")
	if o.code != 0 {
		t.Fatal(o.stderr)
	}
	// Helm prints this on standard error.
	if o.stdout != "" || !strings.HasPrefix(o.stderr, "Pushed: "+host+"/charts/hello:0.1.0\nDigest: sha256:") {
		t.Fatalf("push printed %q on standard output and %q on standard error", o.stdout, o.stderr)
	}
	digest := strings.TrimSpace(strings.TrimPrefix(strings.SplitN(o.stderr, "\n", 2)[1], "Digest: "))
	if o := runHelm(t, sb, work, "", "push", nested, remote, "--plain-http"); o.code != 0 {
		t.Fatal(o.stderr)
	}

	cases := []struct {
		name string
		args []string
		file string // archive expected in the destination
		same string // the archive it must equal
	}{
		{"pkg pushed, exact version", []string{remote + "/hello", "--version", "0.1.0"}, "hello-0.1.0.tgz", hello},
		{"pkg pushed, no version", []string{remote + "/hello"}, "hello-0.1.0.tgz", hello},
		{"helm pushed", []string{remote + "/nested", "--version", "1.0.0"}, "nested-1.0.0.tgz", nested},
		{"by tag", []string{remote + "/nested:1.0.0"}, "nested-1.0.0.tgz", nested},
		{"by digest", []string{remote + "/hello@" + digest}, "hello-0.1.0.tgz", hello},
		{"missing chart", []string{remote + "/nope", "--version", "1.0.0"}, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, who := range []string{"helm", "pkg"} {
				dest := t.TempDir()
				args := append([]string{"pull", "--plain-http", "-d", dest}, tc.args...)
				var o outcome
				if who == "helm" {
					o = runHelm(t, sb, work, "", args...)
				} else {
					o = runPkg(t, sb, "", args...)
				}
				if tc.file == "" {
					if o.code == 0 {
						t.Errorf("%s pulled a missing chart", who)
					}
					continue
				}
				if o.code != 0 {
					t.Fatalf("%s pull: %s", who, o.stderr)
				}
				// Pulled by digest, helm names the file NAME@sha256-HEX.tgz;
				// pkg keeps NAME-VERSION.tgz.
				files, _ := filepath.Glob(filepath.Join(dest, "*.tgz"))
				if len(files) != 1 || (who == "pkg" && filepath.Base(files[0]) != tc.file) {
					t.Fatalf("%s wrote %v, want %s", who, files, tc.file)
				}
				got, err := os.ReadFile(files[0])
				if err != nil {
					t.Fatalf("%s: %v", who, err)
				}
				want, _ := os.ReadFile(tc.same)
				if !bytes.Equal(got, want) {
					t.Errorf("%s pulled other bytes than were pushed", who)
				}
			}
		})
	}

	t.Run("template", func(t *testing.T) {
		args := []string{"template", "rel", remote + "/hello", "--version", "0.1.0", "--plain-http"}
		h := runHelm(t, sb, work, "", args...)
		p := runPkg(t, sb, "", args...)
		if h.code != 0 || p.code != 0 || h.stdout != p.stdout {
			t.Errorf("helm (%d): %s%s\npkg (%d): %s%s", h.code, h.stdout, h.stderr, p.code, p.stdout, p.stderr)
		}
	})
}

// TestRegistryLogin logs in to a registry with basic auth with pkg, uses
// the stored credentials with helm, and the reverse.
func TestRegistryLogin(t *testing.T) {
	helmRef(t)
	host := startRegistry(t, "user", "secret")
	sb := newSandbox(t)
	work := t.TempDir()
	if o := runPkg(t, sb, "", "package", filepath.Join(chartsDir(t), "hello"), "-d", work); o.code != 0 {
		t.Fatal(o.stderr)
	}
	archive := filepath.Join(work, "hello-0.1.0.tgz")
	remote := "oci://" + host + "/charts"

	if o := runPkg(t, sb, "", "push", archive, remote, "--plain-http"); o.code == 0 {
		t.Fatal("anonymous push succeeded")
	}
	// --username and --password, without a stored login, as Helm's.
	if o := runPkg(t, sb, "", "push", archive, remote, "--plain-http", "--username", "user", "--password", "wrong"); o.code == 0 {
		t.Fatal("push with a wrong --password succeeded")
	}
	if o := runPkg(t, sb, "", "push", archive, remote, "--plain-http", "--username", "user", "--password", "secret"); o.code != 0 {
		t.Fatalf("push with --username and --password: %s", o.stderr)
	}
	if o := runPkg(t, sb, "", "pull", remote+"/hello", "--version", "0.1.0", "--plain-http", "-d", t.TempDir(), "--username", "user", "--password", "secret"); o.code != 0 {
		t.Fatalf("pull with --username and --password: %s", o.stderr)
	}
	o := runPkg(t, sb, "", "registry", "login", host, "-u", "user", "-p", "wrong", "--plain-http")
	if o.code == 0 || !strings.Contains(o.stderr, host) {
		t.Errorf("login with a wrong password: %d %s", o.code, o.stderr)
	}
	o = runPkg(t, sb, "secret\n", "registry", "login", host, "-u", "user", "--password-stdin", "--plain-http")
	if o.code != 0 || o.stdout != "Login Succeeded\n" {
		t.Fatalf("login: %d %q %s", o.code, o.stdout, o.stderr)
	}
	if o := runPkg(t, sb, "", "push", archive, remote, "--plain-http"); o.code != 0 {
		t.Fatalf("push after login: %s", o.stderr)
	}
	// helm uses pkg's stored login.
	if h := runHelm(t, sb, work, "", "pull", remote+"/hello", "--version", "0.1.0", "--plain-http", "-d", t.TempDir()); h.code != 0 {
		t.Errorf("helm pull with pkg's login: %s", h.stderr)
	}
	o = runPkg(t, sb, "", "registry", "logout", host)
	if o.code != 0 || o.stdout != "Removing login credentials for "+host+"\n" {
		t.Errorf("logout: %d %q %s", o.code, o.stdout, o.stderr)
	}
	if o := runPkg(t, sb, "", "pull", remote+"/hello", "--version", "0.1.0", "--plain-http", "-d", t.TempDir()); o.code == 0 {
		t.Error("pull after logout succeeded")
	}
	// pkg uses helm's stored login.
	if h := runHelm(t, sb, work, "", "registry", "login", host, "-u", "user", "-p", "secret", "--plain-http"); h.code != 0 {
		t.Fatal(h.stderr)
	}
	if o := runPkg(t, sb, "", "pull", remote+"/hello", "--version", "0.1.0", "--plain-http", "-d", t.TempDir()); o.code != 0 {
		t.Errorf("pkg pull with helm's login: %s", o.stderr)
	}
}

// TestRegistryDependencies resolves a dependency on an OCI registry by a
// version range with helm and pkg and compares the locks and archives.
func TestRegistryDependencies(t *testing.T) {
	helmRef(t)
	host := startRegistry(t, "", "")
	sb := newSandbox(t)
	work := t.TempDir()
	for _, v := range []string{"0.1.0", "0.1.5", "0.2.0"} {
		c, err := chart.Load(filepath.Join(chartsDir(t), "hello"))
		if err != nil {
			t.Fatal(err)
		}
		c.Metadata.Version = v
		p, err := chart.Save(c, work)
		if err != nil {
			t.Fatal(err)
		}
		if o := runPkg(t, sb, "", "push", p, "oci://"+host+"/charts", "--plain-http"); o.code != 0 {
			t.Fatal(o.stderr)
		}
	}
	locks := map[string]string{}
	for _, who := range []string{"helm", "pkg"} {
		dir := filepath.Join(t.TempDir(), "app")
		os.MkdirAll(filepath.Join(dir, "templates"), 0o755)
		os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte("apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n- name: hello\n  version: ~0.1.0\n  repository: oci://"+host+"/charts\n"), 0o644)
		args := []string{"dependency", "update", dir, "--plain-http"}
		var o outcome
		if who == "helm" {
			o = runHelm(t, sb, work, "", args...)
		} else {
			o = runPkg(t, sb, "", args...)
		}
		if o.code != 0 {
			t.Fatalf("%s: %s", who, o.stderr)
		}
		l := lockOf(t, dir)
		if l.Dependencies[0].Version != "0.1.5" {
			t.Errorf("%s locked %s, want 0.1.5", who, l.Dependencies[0].Version)
		}
		locks[who] = l.Digest
		if got := chartsListing(t, dir); len(got) != 1 || got[0] != "hello-0.1.5.tgz" {
			t.Errorf("%s charts/: %v", who, got)
		}
	}
	if locks["helm"] != locks["pkg"] {
		t.Errorf("lock digests differ: %v", locks)
	}
}

// TestRegistrySearch lists the versions a registry holds for a chart.
func TestRegistrySearch(t *testing.T) {
	host := startRegistry(t, "", "")
	sb := newSandbox(t)
	work := t.TempDir()
	for _, v := range []string{"0.1.0", "0.2.0", "0.3.0-rc.1", "1.0.0+build.5"} {
		c, err := chart.Load(filepath.Join(chartsDir(t), "hello"))
		if err != nil {
			t.Fatal(err)
		}
		c.Metadata.Version = v
		p, err := chart.Save(c, work)
		if err != nil {
			t.Fatal(err)
		}
		if o := runPkg(t, sb, "", "push", p, "oci://"+host+"/charts", "--plain-http"); o.code != 0 {
			t.Fatal(o.stderr)
		}
	}
	ref := "oci://" + host + "/charts/hello"
	name := host + "/charts/hello"
	cases := []struct {
		args []string
		want []string
	}{
		{nil, []string{"1.0.0+build.5"}},
		{[]string{"--versions"}, []string{"1.0.0+build.5", "0.2.0", "0.1.0"}},
		{[]string{"--versions", "--devel"}, []string{"1.0.0+build.5", "0.3.0-rc.1", "0.2.0", "0.1.0"}},
		{[]string{"--version", "^0.1"}, []string{"0.1.0"}},
		{[]string{"--version", "<0.3.0-0", "-l"}, []string{"0.2.0", "0.1.0"}},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			o := runPkg(t, sb, "", append([]string{"search", ref, "--plain-http", "-o", "json"}, tc.args...)...)
			if o.code != 0 {
				t.Fatal(o.stderr)
			}
			var parts []string
			for _, v := range tc.want {
				parts = append(parts, fmt.Sprintf(`{"name":%q,"version":%q}`, name, v))
			}
			if want := "[" + strings.Join(parts, ",") + "]\n"; o.stdout != want {
				t.Errorf("got  %s\nwant %s", o.stdout, want)
			}
		})
	}
	if o := runPkg(t, sb, "", "search", "oci://"+host+"/charts/nope", "--plain-http"); o.code == 0 {
		t.Errorf("searching a missing chart succeeded: %s", o.stdout)
	}
}
