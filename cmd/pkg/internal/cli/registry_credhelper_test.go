package cli_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// credentialHelper writes docker-credential-NAME into bin: a Docker
// credential helper (the get/store/erase protocol, JSON on standard
// input and output) keeping each server's credentials in a file of its
// own under store, and logging the actions it ran.
func credentialHelper(t *testing.T, bin, name, store string) {
	t.Helper()
	script := fmt.Sprintf(`#!/bin/sh
# A Docker credential helper for tests: one file per server under %[1]s.
dir=%[1]s
mkdir -p "$dir"
input=$(cat)
echo "$1" >> "$dir/actions"
key() { printf '%%s' "$1" | tr -c 'A-Za-z0-9.-' '_'; }
case "$1" in
store)
	url=$(printf '%%s' "$input" | sed -n 's/.*"ServerURL":"\([^"]*\)".*/\1/p')
	[ -n "$url" ] || { echo "no ServerURL in $input" >&2; exit 1; }
	printf '%%s' "$input" > "$dir/$(key "$url").json" ;;
get)
	f="$dir/$(key "$input").json"
	if [ -f "$f" ]; then cat "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
erase)
	f="$dir/$(key "$input").json"
	if [ -f "$f" ]; then rm -f "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
list)
	echo "{}" ;;
*)
	echo "unknown action $1" >&2; exit 1 ;;
esac
`, store)
	if err := os.WriteFile(filepath.Join(bin, "docker-credential-"+name), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestRegistryCredentialHelpers logs in, pushes, pulls and logs out with
// the registry config naming a credential helper, as credsStore and as a
// per-host credHelpers entry: the real helper programs run (found on
// PATH), the password never reaches config.json, and helm and pkg use
// each other's logins through the helpers.
func TestRegistryCredentialHelpers(t *testing.T) {
	helmRef(t)
	host := startRegistry(t, "user", "secret")
	bin := t.TempDir()
	storeA, storeB := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	credentialHelper(t, bin, "pkgtest", storeA)
	credentialHelper(t, bin, "pkgtest-host", storeB)
	// The helpers run as child processes of this one (pkg runs in
	// process) and of helm: both find them on PATH.
	path := bin + string(os.PathListSeparator) + os.Getenv("PATH")
	t.Setenv("PATH", path)
	sb := newSandbox(t)
	sb["PATH"] = path
	configFile := filepath.Join(sb["HELM_CONFIG_HOME"], "registry", "config.json")
	if err := os.MkdirAll(filepath.Dir(configFile), 0o755); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	if o := runPkg(t, sb, "", "package", filepath.Join(chartsDir(t), "hello"), "-d", work); o.code != 0 {
		t.Fatal(o.stderr)
	}
	archive := filepath.Join(work, "hello-0.1.0.tgz")
	remote := "oci://" + host + "/charts"
	pull := func(who string) outcome {
		args := []string{"pull", remote + "/hello", "--version", "0.1.0", "--plain-http", "-d", t.TempDir()}
		if who == "helm" {
			return runHelm(t, sb, work, "", args...)
		}
		return runPkg(t, sb, "", args...)
	}
	stored := func(store string) string {
		b, _ := os.ReadFile(filepath.Join(store, strings.NewReplacer(":", "_").Replace(host)+".json"))
		return string(b)
	}
	checkConfig := func() {
		t.Helper()
		b, err := os.ReadFile(configFile)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "secret") || strings.Contains(string(b), "dXNlcjpzZWNyZXQ=") {
			t.Errorf("the password reached config.json:\n%s", b)
		}
	}

	for _, tc := range []struct {
		name, config, store string
	}{
		{"credsStore", `{"credsStore": "pkgtest"}`, storeA},
		{"credHelpers", fmt.Sprintf(`{"credsStore": "pkgtest", "credHelpers": {%q: "pkgtest-host"}}`, host), storeB},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(configFile, []byte(tc.config), 0o644); err != nil {
				t.Fatal(err)
			}
			if o := pull("pkg"); o.code == 0 {
				t.Fatal("anonymous pull succeeded")
			}
			o := runPkg(t, sb, "", "registry", "login", host, "-u", "user", "-p", "secret", "--plain-http")
			if o.code != 0 || o.stdout != "Login Succeeded\n" {
				t.Fatalf("login: %d %q %s", o.code, o.stdout, o.stderr)
			}
			var cred struct{ ServerURL, Username, Secret string }
			if err := json.Unmarshal([]byte(stored(tc.store)), &cred); err != nil || cred.ServerURL != host || cred.Username != "user" || cred.Secret != "secret" {
				t.Fatalf("the helper holds %q (%v)", stored(tc.store), err)
			}
			checkConfig()
			if o := runPkg(t, sb, "", "push", archive, remote, "--plain-http"); o.code != 0 {
				t.Fatalf("push with the helper's credentials: %s", o.stderr)
			}
			for _, who := range []string{"pkg", "helm"} {
				if o := pull(who); o.code != 0 {
					t.Errorf("%s pull with pkg's login in the helper: %s", who, o.stderr)
				}
			}
			o = runPkg(t, sb, "", "registry", "logout", host)
			if o.code != 0 {
				t.Fatalf("logout: %s", o.stderr)
			}
			if s := stored(tc.store); s != "" {
				t.Errorf("logout left %q in the helper", s)
			}
			if o := pull("pkg"); o.code == 0 {
				t.Error("pull after logout succeeded")
			}
			// helm's login, through the same helper, serves pkg.
			if h := runHelm(t, sb, work, "", "registry", "login", host, "-u", "user", "-p", "secret", "--plain-http"); h.code != 0 {
				t.Fatal(h.stderr)
			}
			if stored(tc.store) == "" {
				t.Fatal("helm's login did not go to the helper")
			}
			if o := pull("pkg"); o.code != 0 {
				t.Errorf("pkg pull with helm's login in the helper: %s", o.stderr)
			}
			checkConfig()
			if o := runPkg(t, sb, "", "registry", "logout", host); o.code != 0 {
				t.Fatal(o.stderr)
			}
			actions, _ := os.ReadFile(filepath.Join(tc.store, "actions"))
			for _, a := range []string{"store", "get", "erase"} {
				if !strings.Contains(string(actions), a+"\n") {
					t.Errorf("the helper never ran %q: %q", a, actions)
				}
			}
		})
	}
	// credHelpers took the host: the credsStore helper was not asked.
	if b, _ := os.ReadFile(filepath.Join(storeA, "actions")); strings.Count(string(b), "store\n") != 2 {
		t.Errorf("credsStore helper actions: %q (want the two logins of its own case only)", b)
	}
}
