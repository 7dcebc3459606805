package cli_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// writePlugin writes a plugin directory: plugin.yaml and an executable
// run.sh.
func writePlugin(t *testing.T, dir, yaml, script string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "plugin.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "run.sh"), []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

const echoPluginYAML = `name: echoenv
version: 0.1.0
usage: print what a plugin sees
description: prints its arguments and environment
command: "$HELM_PLUGIN_DIR/run.sh --from-yaml"
hooks:
  install: "echo ran > $HELM_PLUGIN_DIR/hook-ran"
`

const echoPluginScript = `echo "name=$HELM_PLUGIN_NAME ns=$HELM_NAMESPACE ctx=$HELM_KUBECONTEXT debug=$HELM_DEBUG dir=$(basename "$HELM_PLUGIN_DIR") cache=$HELM_REPOSITORY_CACHE"
echo "args: $*"
`

// TestPluginsShareHelms: plugins installed by pkg are listed and run by
// helm and the reverse, with the same arguments and environment, exit
// statuses passed on, hooks run, and uninstalled by either.
func TestPluginsShareHelms(t *testing.T) {
	helmRef(t)
	sb := newSandbox(t)
	src := t.TempDir()
	echo := writePlugin(t, filepath.Join(src, "echoenv"), echoPluginYAML, echoPluginScript)
	fail := writePlugin(t, filepath.Join(src, "fail"), "name: fail\nversion: 1.2.3\ndescription: exits 3\ncommand: $HELM_PLUGIN_DIR/run.sh\n", "echo failing >&2\nexit 3\n")

	if o := runPkg(t, sb, "", "plugin", "install", echo); o.code != 0 || o.stdout != "Installed plugin: echoenv\n" {
		t.Fatalf("pkg plugin install: %d %q %s", o.code, o.stdout, o.stderr)
	}
	if _, err := os.Stat(filepath.Join(echo, "hook-ran")); err != nil {
		t.Errorf("the install hook did not run: %v", err)
	}
	if h := runHelm(t, sb, t.TempDir(), "", "plugin", "install", fail); h.code != 0 {
		t.Fatalf("helm plugin install: %s", h.stderr)
	}
	h, p := runHelm(t, sb, t.TempDir(), "", "plugin", "list"), runPkg(t, sb, "", "plugin", "list")
	if h.stdout != p.stdout || !strings.Contains(p.stdout, "fail   \t1.2.3  \texits 3") {
		t.Errorf("plugin list:\nhelm:\n%s\npkg:\n%s", h.stdout, p.stdout)
	}
	args := []string{"echoenv", "-n", "team-a", "first", "--kube-context=prod", "--flag", "x", "--debug"}
	h, p = runHelm(t, sb, t.TempDir(), "", args...), runPkg(t, sb, "", args...)
	if h.code != 0 || p.code != 0 || h.stdout != p.stdout {
		t.Errorf("running the plugin:\nhelm %d:\n%s%s\npkg %d:\n%s%s", h.code, h.stdout, h.stderr, p.code, p.stdout, p.stderr)
	}
	if want := "name=echoenv ns=team-a ctx=prod debug=true dir=echoenv"; !strings.Contains(p.stdout, want) || !strings.Contains(p.stdout, "args: --from-yaml first --flag x\n") {
		t.Errorf("pkg echoenv printed:\n%s", p.stdout)
	}
	h, p = runHelm(t, sb, t.TempDir(), "", "fail"), runPkg(t, sb, "", "fail")
	if h.code != 3 || p.code != 3 || !strings.Contains(p.stderr, "failing") || !strings.Contains(p.stderr, `Error: plugin "fail" exited with error`) {
		t.Errorf("a failing plugin: helm %d %q, pkg %d %q", h.code, h.stderr, p.code, p.stderr)
	}
	if o := runPkg(t, sb, "", "plugin", "uninstall", "fail", "nope"); o.code == 0 || o.stdout != "Uninstalled plugin: fail\n" || !strings.Contains(o.stderr, "Plugin: nope not found") {
		t.Errorf("pkg plugin uninstall: %d %q %q", o.code, o.stdout, o.stderr)
	}
	if h := runHelm(t, sb, t.TempDir(), "", "plugin", "uninstall", "echoenv"); h.code != 0 {
		t.Errorf("helm plugin uninstall of pkg's: %s", h.stderr)
	}
	if o := runPkg(t, sb, "", "plugin", "list"); o.stdout != "NAME\tVERSION\tDESCRIPTION\n" {
		t.Errorf("after uninstalling both:\n%q", o.stdout)
	}
	if _, err := os.Stat(filepath.Join(echo, "plugin.yaml")); err != nil {
		t.Errorf("uninstalling a linked plugin removed its source: %v", err)
	}
	// A plugin named like a built-in command is installed, with a word:
	// the built-in runs.
	diff := writePlugin(t, filepath.Join(src, "helm-diff"), "name: diff\nversion: 3.9.0\ncommand: $HELM_PLUGIN_DIR/run.sh\n", "echo plugin diff\n")
	if o := runPkg(t, sb, "", "plugin", "install", diff); o.code != 0 || !strings.Contains(o.stderr, `"pkg diff" is a built-in command`) {
		t.Errorf("installing a plugin named like a built-in: %d %q", o.code, o.stderr)
	}
	if o := runPkg(t, sb, "", "plugin", "install", fail); o.code != 0 || strings.Contains(o.stderr, "built-in") {
		t.Errorf("installing a plugin of its own name: %d %q", o.code, o.stderr)
	}
	// HELM_NO_PLUGINS=1 turns them off.
	runPkg(t, sb, "", "plugin", "install", echo)
	sb["HELM_NO_PLUGINS"] = "1"
	if o := runPkg(t, sb, "", "echoenv"); o.code == 0 || !strings.Contains(o.stderr, "unknown command") {
		t.Errorf("with HELM_NO_PLUGINS=1: %d %s", o.code, o.stderr)
	}
}

// TestPluginFromArchiveAndRepository installs a plugin from a .tgz on an
// HTTP server and one from a git repository, and updates the latter.
func TestPluginFromArchiveAndRepository(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not found")
	}
	sb := newSandbox(t)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range []struct{ name, body string }{{"tarred/plugin.yaml", "name: tarred\nversion: 2.0.0\ndescription: from a tarball\ncommand: $HELM_PLUGIN_DIR/run.sh\n"}, {"tarred/run.sh", "#!/bin/sh\necho tarred $*\n"}} {
		tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o755, Size: int64(len(f.body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(f.body))
	}
	tw.Close()
	zw.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(buf.Bytes()) }))
	defer srv.Close()
	if o := runPkg(t, sb, "", "plugin", "install", srv.URL+"/tarred-2.0.0.tgz"); o.code != 0 || o.stdout != "Installed plugin: tarred\n" {
		t.Fatalf("install from an archive: %d %q %s", o.code, o.stdout, o.stderr)
	}
	if o := runPkg(t, sb, "", "tarred", "a", "b"); o.stdout != "tarred a b\n" {
		t.Errorf("the unpacked plugin: %d %q %s", o.code, o.stdout, o.stderr)
	}

	repo := writePlugin(t, filepath.Join(t.TempDir(), "helm-gitty"), "name: gitty\nversion: 0.1.0\ndescription: from git\ncommand: $HELM_PLUGIN_DIR/run.sh\n", "echo gitty\n")
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v %s", args, err, out)
		}
	}
	git("init", "-q")
	git("add", ".")
	git("commit", "-q", "-m", "v0.1.0")
	git("tag", "v0.1.0")
	if o := runPkg(t, sb, "", "plugin", "install", "file://"+repo); o.code != 0 || o.stdout != "Installed plugin: gitty\n" {
		t.Fatalf("install from a repository: %d %q %s", o.code, o.stdout, o.stderr)
	}
	if err := os.WriteFile(filepath.Join(repo, "plugin.yaml"), []byte("name: gitty\nversion: 0.2.0\ndescription: from git\ncommand: $HELM_PLUGIN_DIR/run.sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git("commit", "-q", "-am", "v0.2.0")
	if o := runPkg(t, sb, "", "plugin", "update", "gitty"); o.code != 0 || o.stdout != "Updated plugin: gitty\n" {
		t.Fatalf("update: %d %q %s", o.code, o.stdout, o.stderr)
	}
	if o := runPkg(t, sb, "", "plugin", "list"); !strings.Contains(o.stdout, "gitty \t0.2.0") || !strings.Contains(o.stdout, "tarred\t2.0.0") {
		t.Errorf("after the update:\n%s", o.stdout)
	}
	if o := runPkg(t, sb, "", "plugin", "update", "tarred"); o.code == 0 || !strings.Contains(o.stderr, "not installed from a repository") {
		t.Errorf("updating an unpacked plugin: %d %s", o.code, o.stderr)
	}
	// --version takes a tag or a constraint on the tags.
	git("tag", "v0.2.0")
	for _, c := range []struct{ version, want string }{{"~0.1", "0.1.0"}, {"v0.2.0", "0.2.0"}, {">=0.1", "0.2.0"}} {
		runPkg(t, sb, "", "plugin", "uninstall", "gitty")
		if o := runPkg(t, sb, "", "plugin", "install", "file://"+repo, "--version", c.version); o.code != 0 {
			t.Fatalf("install --version %s: %s", c.version, o.stderr)
		}
		if o := runPkg(t, sb, "", "plugin", "list"); !strings.Contains(o.stdout, "gitty \t"+c.want) {
			t.Errorf("install --version %s:\n%s", c.version, o.stdout)
		}
	}
	if o := runPkg(t, sb, "", "plugin", "update", "gitty"); o.code == 0 || !strings.Contains(o.stderr, "pinned to version 0.2.0") {
		t.Errorf("updating a plugin pinned to a tag: %d %s", o.code, o.stderr)
	}
	runPkg(t, sb, "", "plugin", "uninstall", "gitty")
	if o := runPkg(t, sb, "", "plugin", "install", "file://"+repo, "--version", "~9"); o.code == 0 || !strings.Contains(o.stderr, "no tag meeting") {
		t.Errorf("a constraint no tag meets: %d %s", o.code, o.stderr)
	}
}

// TestPluginDownloaders: a repository whose URLs have a scheme a plugin's
// downloader serves (as helm-s3's s3://) is added, searched, pulled from
// and rendered by pkg as by helm, with the same bytes; without the plugin
// both refuse the scheme.
func TestPluginDownloaders(t *testing.T) {
	helmRef(t)
	sb := newSandbox(t)
	dl := writePlugin(t, filepath.Join(t.TempDir(), "myfs"), `name: myfs
version: 0.1.0
description: reads myfs:// URLs from the local disk
downloaders:
- command: "run.sh"
  protocols: ["myfs"]
`, `# arguments: certificate, key and CA files, then the URL
case "$4" in myfs://*) exec cat "${4#myfs://}";; esac
echo "not a myfs URL: $4" >&2
exit 1
`)
	repoDir := t.TempDir()
	if o := runPkg(t, sb, "", "package", filepath.Join(chartsDir(t), "hello"), "-d", repoDir); o.code != 0 {
		t.Fatal(o.stderr)
	}
	url := "myfs://" + repoDir
	if o := runPkg(t, sb, "", "repo", "index", repoDir, "--url", url); o.code != 0 {
		t.Fatal(o.stderr)
	}
	sb["HELM_NO_PLUGINS"] = "1"
	h, p := runHelm(t, sb, t.TempDir(), "", "repo", "add", "mine", url), runPkg(t, sb, "", "repo", "add", "mine", url)
	if h.code == 0 || p.code == 0 || !strings.Contains(p.stderr, "could not find protocol handler for: myfs") {
		t.Errorf("without the plugin: helm %d %s; pkg %d %s", h.code, h.stderr, p.code, p.stderr)
	}
	delete(sb, "HELM_NO_PLUGINS")
	if o := runPkg(t, sb, "", "plugin", "install", dl); o.code != 0 {
		t.Fatal(o.stderr)
	}
	if h := runHelm(t, sb, t.TempDir(), "", "repo", "add", "theirs", url); h.code != 0 {
		t.Fatalf("helm repo add: %s", h.stderr)
	}
	if o := runPkg(t, sb, "", "repo", "add", "mine", url); o.code != 0 {
		t.Fatalf("pkg repo add: %s", o.stderr)
	}
	if o := runPkg(t, sb, "", "search", "repo", "mine/hello"); o.code != 0 || !strings.Contains(o.stdout, "mine/hello") {
		t.Errorf("search: %d %s %s", o.code, o.stdout, o.stderr)
	}
	hd, pd := t.TempDir(), t.TempDir()
	if h := runHelm(t, sb, t.TempDir(), "", "pull", "theirs/hello", "-d", hd); h.code != 0 {
		t.Fatalf("helm pull: %s", h.stderr)
	}
	if o := runPkg(t, sb, "", "pull", "mine/hello", "-d", pd); o.code != 0 {
		t.Fatalf("pkg pull: %s", o.stderr)
	}
	hb, _ := os.ReadFile(filepath.Join(hd, "hello-0.1.0.tgz"))
	pb, err := os.ReadFile(filepath.Join(pd, "hello-0.1.0.tgz"))
	if err != nil || len(pb) == 0 || !bytes.Equal(hb, pb) {
		t.Errorf("the pulled archives differ (%d and %d bytes): %v", len(hb), len(pb), err)
	}
	h, p = runHelm(t, sb, t.TempDir(), "", "template", "r", "theirs/hello"), runPkg(t, sb, "", "template", "r", "mine/hello")
	if h.code != 0 || p.code != 0 || h.stdout != p.stdout {
		t.Errorf("template from the repository: helm %d %s, pkg %d %s", h.code, h.stderr, p.code, p.stderr)
	}
}

// versionCheckScript is how helm-secrets finds out which Helm runs it: it
// refuses to run under anything that does not answer v2, v3 or v4.
const versionCheckScript = `case $("${HELM_BIN}" version --short) in
v3*) echo "helm 3: $("${HELM_BIN}" version --template '{{.Version}}')" ;;
*) echo "Unsupported helm version: $("${HELM_BIN}" version --short)" >&2; exit 1 ;;
esac
`

// TestPluginSeesHelm3: a plugin that asks $HELM_BIN for its version, as
// helm-secrets does, runs under pkg as under Helm, while pkg's own
// "version" outside plugins stays pkg's.
func TestPluginSeesHelm3(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	helm := helmRef(t)
	bin := buildClusterBin(t)
	sb := newSandbox(t)
	dir := writePlugin(t, filepath.Join(t.TempDir(), "vercheck"), "name: vercheck\nversion: 0.1.0\ncommand: $HELM_PLUGIN_DIR/run.sh\n", versionCheckScript)
	if o := runPkg(t, sb, "", "plugin", "install", dir); o.code != 0 {
		t.Fatalf("pkg plugin install: %d %s", o.code, o.stderr)
	}
	run := func(prog string, args ...string) (string, error) {
		cmd := exec.Command(prog, args...)
		cmd.Env = sb.list()
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return string(out), fmt.Errorf("%v: %s", err, stderr.String())
		}
		return string(out), nil
	}
	h, err := run(helm, "vercheck")
	if err != nil || h != "helm 3: v3.22.0\n" {
		t.Fatalf("helm vercheck: %q, %v", h, err)
	}
	p, err := run(bin, "vercheck")
	if err != nil || p != h {
		t.Errorf("pkg vercheck: %q, %v; want %q", p, err, h)
	}
	short, err := run(bin, "version", "--short")
	if err != nil || strings.HasPrefix(short, "v3.22.0") {
		t.Errorf("pkg version --short outside a plugin: %q, %v; want pkg's own version", short, err)
	}
	sb["PKG_AS_HELM"] = "1"
	short, err = run(bin, "version", "--short")
	if err != nil || !regexp.MustCompile(`^v3\.22\.0\+pkg\.[0-9A-Za-z.-]+\n$`).MatchString(short) {
		t.Errorf("pkg version --short as a plugin sees it: %q, %v", short, err)
	}
}
