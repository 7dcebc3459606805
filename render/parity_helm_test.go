package render_test

// Helm's side of the differential parity suite: helmTemplate renders a chart
// with helm.sh/helm/v3 v3.22.0 in-process and returns exactly what
// `helm template` prints on stdout, and compareRandomAware compares two such
// outputs while tolerating the lines Helm renders at random. The suite's
// table, parityCases, is here too, so that TestParityCasesAgainstHelm checks
// it with Helm alone; TestParity and our side are in parity_test.go.
//
// TestHelmHarnessMatchesBinary keeps the harness honest: it runs the
// reference binary (/tmp/helm-ref/helm, see /work/shared/REFERENCE.md) on the
// same cases and requires identical stdout, or identical error text.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	helmchart "helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/cli/values"
	"helm.sh/helm/v3/pkg/getter"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/releaseutil"
)

// parityCase is one `helm template` invocation: a chart and the options of
// the command line.
type parityCase struct {
	name, chart                string // case name; chart directory under testdata/charts
	valueFiles, set, setString []string
	releaseName, namespace     string // "" means "release-name" and "default", as helm template
	isUpgrade, includeCRDs     bool
	skipTests, disableHooks    bool
	showOnly                   []string
	kubeVersion                string // "" means v1.37.0
	apiVersions                []string
	wantErr                    bool
	// random marks charts whose output Helm draws at random (passwords,
	// keys, certificates, UUIDs): they are compared with compareRandomAware
	// instead of byte for byte.
	random bool
}

// Defaults of `helm template` when run without a cluster by the reference
// binary (whose link flags set Kubernetes v1.37.0 and Helm v3.22.0).
const (
	defaultReleaseName = "release-name"
	defaultNamespace   = "default"
	defaultKubeVersion = "v1.37.0"
	referenceHelm      = "/tmp/helm-ref/helm"
	referenceVersion   = "v3.22.0"
)

func (tc parityCase) release() string {
	if tc.releaseName != "" {
		return tc.releaseName
	}
	return defaultReleaseName
}

func (tc parityCase) ns() string {
	if tc.namespace != "" {
		return tc.namespace
	}
	return defaultNamespace
}

func (tc parityCase) kube() string {
	if tc.kubeVersion != "" {
		return tc.kubeVersion
	}
	return defaultKubeVersion
}

// testdataDir is the module's testdata directory, found from this file so
// that tests may run from any working directory.
func testdataDir(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate parity_helm_test.go")
	}
	return filepath.Join(filepath.Dir(file), "..", "testdata")
}

// valuesPath resolves a values file of a case: names without a directory
// are looked up in testdata/values.
func valuesPath(t testing.TB, name string) string {
	t.Helper()
	if filepath.IsAbs(name) || strings.ContainsRune(name, filepath.Separator) {
		return name
	}
	return filepath.Join(testdataDir(t), "values", name)
}

var helmLibraryOnce sync.Once

// prepareHelmLibrary makes Helm used as a library report what the reference
// binary reports. The binary's link flags set its version; a test binary
// keeps the source default ("v3.22") and blanks GoVersion, and Install's
// client-only path starts from DefaultCapabilities, so those are patched
// once, before any render, to the values the binary has.
func prepareHelmLibrary() {
	helmLibraryOnce.Do(func() {
		chartutil.DefaultCapabilities.HelmVersion.Version = referenceVersion
		chartutil.DefaultCapabilities.HelmVersion.GitCommit = ""
		chartutil.DefaultCapabilities.HelmVersion.GitTreeState = "clean"
		chartutil.DefaultCapabilities.HelmVersion.GoVersion = runtime.Version()
	})
}

// quietHelmLog silences the warnings Helm's engine writes through the
// standard logger (the binary prints them on stderr, which is not compared)
// for the duration of a top-level test, whose parallel subtests end before
// its cleanup runs.
func quietHelmLog(t *testing.T) {
	t.Helper()
	out, flags := log.Writer(), log.Flags()
	log.SetOutput(io.Discard)
	t.Cleanup(func() { log.SetOutput(out); log.SetFlags(flags) })
}

// helmTemplate renders chartDir as `helm template` v3.22.0 does with the
// options of tc, in-process, and returns what the command prints on stdout.
// It follows cmd/helm/template.go and install.go step by step: the same
// checks in the same order, so that errors are Helm's errors too.
func helmTemplate(t *testing.T, chartDir string, tc parityCase) (string, error) {
	t.Helper()
	prepareHelmLibrary()

	cfg := &action.Configuration{Log: func(string, ...interface{}) {}}
	client := action.NewInstall(cfg)

	// newTemplateCmd's RunE, in order.
	kv, err := chartutil.ParseKubeVersion(tc.kube())
	if err != nil {
		return "", fmt.Errorf("invalid kube version '%s': %s", tc.kube(), err)
	}
	client.KubeVersion = kv
	client.DryRunOption = "true"
	client.DryRun = true
	client.ReleaseName = tc.release()
	client.Replace = true
	client.ClientOnly = true
	client.APIVersions = chartutil.VersionSet(tc.apiVersions)
	client.IncludeCRDs = tc.includeCRDs
	client.IsUpgrade = tc.isUpgrade
	client.DisableHooks = tc.disableHooks

	// runInstall.
	if _, err := os.Stat(chartDir); err != nil {
		return "", err
	}
	vopts := values.Options{StringValues: tc.setString, Values: tc.set}
	for _, f := range tc.valueFiles {
		vopts.ValueFiles = append(vopts.ValueFiles, valuesPath(t, f))
	}
	vals, err := vopts.MergeValues(getter.Providers{})
	if err != nil {
		return "", err
	}
	chrt, err := loader.Load(chartDir)
	if err != nil {
		return "", err
	}
	if err := checkInstallable(chrt); err != nil {
		return "", err
	}
	if req := chrt.Metadata.Dependencies; req != nil {
		if err := action.CheckDependencies(chrt, req); err != nil {
			return "", fmt.Errorf("An error occurred while checking for chart dependencies. You may need to run `helm dependency build` to fetch missing dependencies: %w", err)
		}
	}
	client.Namespace = tc.ns()
	rel, err := client.RunWithContext(context.Background(), chrt, vals)
	if err != nil {
		if rel != nil {
			return "", fmt.Errorf("%w\n\nUse --debug flag to render out invalid YAML", err)
		}
		return "", err
	}
	return composeTemplateOutput(rel, tc)
}

// checkInstallable is cmd/helm's check that only application charts install.
func checkInstallable(c *helmchart.Chart) error {
	switch c.Metadata.Type {
	case "", "application":
		return nil
	}
	return fmt.Errorf("%s charts are not installable", c.Metadata.Type)
}

// composeTemplateOutput builds stdout from a rendered release as
// cmd/helm/template.go does: the manifest, then the hooks unless disabled
// (tests skipped when asked), then the --show-only filter.
func composeTemplateOutput(rel *release.Release, tc parityCase) (string, error) {
	var manifests bytes.Buffer
	fmt.Fprintln(&manifests, strings.TrimSpace(rel.Manifest))
	if !tc.disableHooks {
		for _, h := range rel.Hooks {
			if tc.skipTests && isTestHook(h) {
				continue
			}
			fmt.Fprintf(&manifests, "---\n# Source: %s\n%s\n", h.Path, h.Manifest)
		}
	}
	if len(tc.showOnly) == 0 {
		return manifests.String(), nil
	}

	split := releaseutil.SplitManifests(manifests.String())
	keys := make([]string, 0, len(split))
	for k := range split {
		keys = append(keys, k)
	}
	sort.Sort(releaseutil.BySplitManifestsOrder(keys))

	sourceRE := regexp.MustCompile("# Source: [^/]+/(.+)")
	var out strings.Builder
	var selected []string
	for _, f := range tc.showOnly {
		missing := true
		f = filepath.ToSlash(f)
		for _, k := range keys {
			m := split[k]
			sub := sourceRE.FindStringSubmatch(m)
			if len(sub) == 0 {
				continue
			}
			if ok, _ := filepath.Match(f, sub[1]); !ok {
				continue
			}
			selected = append(selected, m)
			missing = false
		}
		if missing {
			return "", fmt.Errorf("could not find template %s in chart", f)
		}
	}
	for _, m := range selected {
		fmt.Fprintf(&out, "---\n%s\n", m)
	}
	return out.String(), nil
}

func isTestHook(h *release.Hook) bool {
	for _, e := range h.Events {
		if e == release.HookTest {
			return true
		}
	}
	return false
}

// binaryArgs are the reference binary's arguments for a case.
func binaryArgs(chartDir string, tc parityCase, valueFiles []string) []string {
	args := []string{"template", tc.release(), chartDir, "--namespace", tc.ns(), "--kube-version", tc.kube()}
	for _, f := range valueFiles {
		args = append(args, "--values", f)
	}
	for _, s := range tc.set {
		args = append(args, "--set", s)
	}
	for _, s := range tc.setString {
		args = append(args, "--set-string", s)
	}
	for _, a := range tc.apiVersions {
		args = append(args, "--api-versions", a)
	}
	for _, s := range tc.showOnly {
		args = append(args, "--show-only", s)
	}
	if tc.isUpgrade {
		args = append(args, "--is-upgrade")
	}
	if tc.includeCRDs {
		args = append(args, "--include-crds")
	}
	if tc.skipTests {
		args = append(args, "--skip-tests")
	}
	if tc.disableHooks {
		args = append(args, "--no-hooks")
	}
	return args
}

// binaryTemplate runs the reference binary with a clean environment and
// returns its stdout, or an error holding what it printed after "Error: ".
func binaryTemplate(t *testing.T, chartDir string, tc parityCase) (string, error) {
	t.Helper()
	var files []string
	for _, f := range tc.valueFiles {
		files = append(files, valuesPath(t, f))
	}
	home := t.TempDir()
	cmd := exec.Command(referenceHelm, binaryArgs(chartDir, tc, files)...)
	cmd.Env = []string{
		"HOME=" + home,
		"PATH=/usr/bin:/bin",
		"KUBECONFIG=" + filepath.Join(home, "no-kubeconfig"),
		"HELM_CACHE_HOME=" + filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME=" + filepath.Join(home, "config"),
		"HELM_DATA_HOME=" + filepath.Join(home, "data"),
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return stdout.String(), nil
	case errors.As(err, &exit):
		msg := stderr.String()
		if i := strings.Index(msg, "Error: "); i >= 0 {
			msg = msg[i+len("Error: "):]
		}
		return stdout.String(), errors.New(strings.TrimSuffix(msg, "\n"))
	default:
		t.Fatalf("running %s: %v", referenceHelm, err)
		return "", nil
	}
}

// requireReferenceHelm skips the test unless the reference binary exists
// and is v3.22.0.
func requireReferenceHelm(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(referenceHelm); err != nil {
		t.Skipf("reference binary %s not found (see /work/shared/REFERENCE.md)", referenceHelm)
	}
	out, err := exec.Command(referenceHelm, "version", "--template", "{{.Version}}").Output()
	if err != nil || strings.TrimSpace(string(out)) != referenceVersion {
		t.Skipf("%s is not Helm %s (got %q, %v)", referenceHelm, referenceVersion, out, err)
	}
}

// TestParityCasesAgainstHelm checks the table itself: every chart directory
// has a case, and Helm fails exactly on the cases marked wantErr.
func TestParityCasesAgainstHelm(t *testing.T) {
	quietHelmLog(t)
	charts := filepath.Join(testdataDir(t), "charts")
	covered := map[string]bool{}
	for _, tc := range parityCases {
		covered[tc.chart] = true
	}
	var dirs []string
	for _, pattern := range []string{"*/Chart.yaml", "errors/*"} {
		m, err := filepath.Glob(filepath.Join(charts, pattern))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range m {
			if filepath.Base(p) == "Chart.yaml" {
				p = filepath.Dir(p)
			}
			rel, _ := filepath.Rel(charts, p)
			dirs = append(dirs, filepath.ToSlash(rel))
		}
	}
	errorCharts := 0
	for _, d := range dirs {
		if strings.HasPrefix(d, "errors/") {
			errorCharts++
		}
		if !covered[d] {
			t.Errorf("chart %s has no parity case", d)
		}
	}
	if len(dirs)-errorCharts < 32 || errorCharts < 9 {
		t.Errorf("found %d charts and %d error charts, want at least 32 and 9", len(dirs)-errorCharts, errorCharts)
	}
	for _, tc := range parityCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := helmTemplate(t, filepath.Join(charts, filepath.FromSlash(tc.chart)), tc)
			if tc.wantErr != (err != nil) {
				t.Fatalf("helm error = %v, case says wantErr=%v", err, tc.wantErr)
			}
			if err == nil && tc.random {
				again, err := helmTemplate(t, filepath.Join(charts, filepath.FromSlash(tc.chart)), tc)
				if err != nil {
					t.Fatal(err)
				}
				if again == out {
					t.Fatal("marked random, but two renders are identical")
				}
			}
		})
	}
}

// TestHelmHarnessMatchesBinary checks that helmTemplate prints what the
// reference binary prints, byte for byte (random lines aside), and fails
// with the same message where the binary fails.
func TestHelmHarnessMatchesBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the reference binary once per case")
	}
	requireReferenceHelm(t)
	quietHelmLog(t)
	charts := filepath.Join(testdataDir(t), "charts")
	for _, tc := range harnessCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(charts, filepath.FromSlash(tc.chart))
			got, gotErr := helmTemplate(t, dir, tc)
			want, wantErr := binaryTemplate(t, dir, tc)
			if tc.wantErr != (wantErr != nil) {
				t.Fatalf("binary error = %v, case says wantErr=%v", wantErr, tc.wantErr)
			}
			if wantErr != nil {
				if gotErr == nil {
					t.Fatalf("binary failed with %q, harness succeeded", wantErr)
				}
				if !sameErrorText(wantErr.Error(), gotErr.Error()) {
					t.Fatalf("error text differs\nbinary:  %q\nharness: %q", wantErr, gotErr)
				}
				return
			}
			if gotErr != nil {
				t.Fatalf("harness failed, binary did not: %v", gotErr)
			}
			if tc.random {
				if err := compareRandomAware(want, got); err != nil {
					t.Fatalf("harness output differs from binary's: %v", err)
				}
				again, err := helmTemplate(t, dir, tc)
				if err != nil {
					t.Fatalf("second harness render: %v", err)
				}
				if err := checkStableLines(again, got, want); err != nil {
					t.Fatalf("binary differs on a line the harness renders stably: %v", err)
				}
				return
			}
			if got != want {
				t.Fatalf("harness output differs from binary's: %v", firstDifference(want, got))
			}
		})
	}
}

// compareRandomAware compares two `helm template` outputs line by line.
// Lines must be identical, except where both sides hold the same kind of
// random construct: PEM blocks of the same type (as text or base64), UUIDs,
// bcrypt hashes (htpasswd) and tokens of random characters of the same
// length and alphabet. It returns the first real difference, with line
// numbers and context, or nil.
func compareRandomAware(want, got string) error {
	wl := foldPEMBlocks(strings.Split(want, "\n"))
	gl := foldPEMBlocks(strings.Split(got, "\n"))
	n := max(len(wl), len(gl))
	for i := 0; i < n; i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i].text
		}
		if i < len(gl) {
			g = gl[i].text
		}
		if i < len(wl) && i < len(gl) && (w == g || sameRandomLine(w, g)) {
			continue
		}
		return lineDifference(wl, gl, i)
	}
	return nil
}

// line is one line of output; PEM blocks folded into one line keep the
// number of their first line.
type line struct {
	text string
	num  int // 1-based line number in the original output
}

var pemBeginRE = regexp.MustCompile(`^(\s*)-----BEGIN ([A-Z0-9 ]+)-----\s*$`)

// foldPEMBlocks replaces each well-formed PEM block (which may span a
// varying number of lines from run to run) by one line naming its type.
func foldPEMBlocks(lines []string) []line {
	out := make([]line, 0, len(lines))
	for i := 0; i < len(lines); i++ {
		m := pemBeginRE.FindStringSubmatch(lines[i])
		if m == nil {
			out = append(out, line{lines[i], i + 1})
			continue
		}
		end := "-----END " + m[2] + "-----"
		j := i + 1
		for j < len(lines) && strings.TrimSpace(lines[j]) != end {
			j++
		}
		if j == len(lines) {
			out = append(out, line{lines[i], i + 1})
			continue
		}
		var block strings.Builder
		for _, l := range lines[i : j+1] {
			block.WriteString(strings.TrimSpace(l))
			block.WriteByte('\n')
		}
		if p, _ := pem.Decode([]byte(block.String())); p == nil || p.Type != m[2] {
			out = append(out, line{lines[i], i + 1})
			continue
		}
		out = append(out, line{m[1] + "<PEM " + m[2] + ">", i + 1})
		i = j
	}
	return out
}

var (
	// base64 of "-----BEGIN" starts with this.
	b64PEMRE  = regexp.MustCompile(`LS0tLS1CRUdJTi[A-Za-z0-9+/]*={0,2}`)
	uuidRE    = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`)
	bcryptRE  = regexp.MustCompile(`\$2[aby]?\$[0-9]{2}\$[./A-Za-z0-9]{53}`)
	tokenizer = regexp.MustCompile(`[A-Za-z0-9+/=]+|[^A-Za-z0-9+/=]+`)
)

// sameRandomLine reports whether two different lines differ only in random
// constructs of the same shape.
func sameRandomLine(a, b string) bool {
	a, b = normalizeRandom(a), normalizeRandom(b)
	if a == b {
		return true
	}
	at, bt := tokenizer.FindAllString(a, -1), tokenizer.FindAllString(b, -1)
	if len(at) != len(bt) {
		return false
	}
	for i := range at {
		if at[i] != bt[i] && !sameRandomToken(at[i], bt[i]) {
			return false
		}
	}
	return true
}

// normalizeRandom replaces base64-encoded PEM blocks, UUIDs and bcrypt
// hashes by placeholders naming what they are.
func normalizeRandom(s string) string {
	s = b64PEMRE.ReplaceAllStringFunc(s, func(tok string) string {
		raw, err := base64.StdEncoding.DecodeString(tok)
		if err != nil {
			return tok
		}
		p, _ := pem.Decode(raw)
		if p == nil {
			return tok
		}
		return "<b64 PEM " + p.Type + ">"
	})
	s = uuidRE.ReplaceAllString(s, "<uuid>")
	return bcryptRE.ReplaceAllString(s, "<bcrypt>")
}

// sameRandomToken reports whether two tokens could both come from one
// random generator: the same length, long enough not to be a word or a
// small number, drawn from the same alphabet (digits only, or the
// alphanumeric and base64 characters), with the same padding.
func sameRandomToken(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	digits := func(s string) bool { return strings.Trim(s, "0123456789") == "" }
	if digits(a) || digits(b) {
		return digits(a) && digits(b) && len(a) >= 6
	}
	// Charts suffix names with short random strings (randAlphaNum 5);
	// checkStableLines keeps this from hiding real differences, since
	// such lines differ between two Helm renders too.
	if len(a) < 5 {
		return false
	}
	pad := func(s string) int { return len(s) - len(strings.TrimRight(s, "=")) }
	return pad(a) == pad(b) && strings.Trim(a[:len(a)-pad(a)], "=") == a[:len(a)-pad(a)]
}

// checkStableLines compares got with want on the lines that Helm rendered
// identically in two runs (want and again): those hold no random output, so
// they must match byte for byte. It complements compareRandomAware, whose
// shape rules alone could let a same-length real difference through.
func checkStableLines(want, again, got string) error {
	wl := foldPEMBlocks(strings.Split(want, "\n"))
	al := foldPEMBlocks(strings.Split(again, "\n"))
	gl := foldPEMBlocks(strings.Split(got, "\n"))
	if len(wl) != len(al) {
		return fmt.Errorf("helm's two runs differ in shape (%d and %d lines): cannot tell random lines apart", len(wl), len(al))
	}
	for i := range wl {
		if wl[i].text != al[i].text {
			continue
		}
		if i >= len(gl) || gl[i].text != wl[i].text {
			return lineDifference(wl, gl, i)
		}
	}
	if len(gl) != len(wl) {
		return lineDifference(wl, gl, min(len(wl), len(gl)))
	}
	return nil
}

// lineDifference describes the difference at folded line i with context.
func lineDifference(want, got []line, i int) error {
	var b strings.Builder
	at := func(ls []line, k int) (string, int) {
		if k < len(ls) {
			return ls[k].text, ls[k].num
		}
		return "<end of output>", -1
	}
	w, wn := at(want, i)
	g, gn := at(got, i)
	fmt.Fprintf(&b, "first difference at want line %d, got line %d\n", wn, gn)
	for k := max(0, i-3); k < i; k++ {
		fmt.Fprintf(&b, "   %5d  %s\n", want[k].num, want[k].text)
	}
	fmt.Fprintf(&b, " - %5d  %s\n", wn, w)
	fmt.Fprintf(&b, " + %5d  %s\n", gn, g)
	for k := i + 1; k < min(len(want), i+3); k++ {
		fmt.Fprintf(&b, "   %5d  %s\n", want[k].num, want[k].text)
	}
	return errors.New(b.String())
}

// firstDifference describes the first line where strict outputs differ.
func firstDifference(want, got string) error {
	if want == got {
		return nil
	}
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	toLines := func(ss []string) []line {
		out := make([]line, len(ss))
		for i, s := range ss {
			out[i] = line{s, i + 1}
		}
		return out
	}
	i := 0
	for i < len(wl) && i < len(gl) && wl[i] == gl[i] {
		i++
	}
	return lineDifference(toLines(wl), toLines(gl), i)
}

// sameErrorText reports whether two error messages are equal up to the
// order of their lines: Helm lists schema violations in map order, which
// changes from run to run.
func sameErrorText(a, b string) bool {
	if a == b {
		return true
	}
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	sort.Strings(al)
	sort.Strings(bl)
	return strings.Join(al, "\n") == strings.Join(bl, "\n")
}

// errorLocRE finds the chart files an error message names, with their line
// when there is one: "templates/x.yaml:12", "(chart/templates/x.yaml:7)",
// "YAML parse error on chart/templates/x.yaml", "cannot load values.yaml".
var errorLocRE = regexp.MustCompile(`[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*\.(?:yaml|yml|tpl|txt|json)(?::[0-9]+)?`)

// errorLocations lists the locations in an error message, in order.
func errorLocations(msg string) []string {
	return errorLocRE.FindAllString(msg, -1)
}

// errorSites are the locations of an error message that matter when two
// messages are compared: those with a line number if there are any (the
// template names Go quotes in "executing" clauses are left out), else the
// bare file names.
func errorSites(msg string) []string {
	all := errorLocations(msg)
	var lined []string
	for _, l := range all {
		if strings.Contains(l, ":") {
			lined = append(lined, l)
		}
	}
	if len(lined) > 0 {
		return lined
	}
	return all
}

func TestCompareRandomAware(t *testing.T) {
	t.Parallel()
	cert := func(body string) string {
		return "  tls.crt: |\n    -----BEGIN CERTIFICATE-----\n" + body + "    -----END CERTIFICATE-----\n"
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	pemA := "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"
	pemB := "-----BEGIN RSA PRIVATE KEY-----\nBBBBCCCC\n-----END RSA PRIVATE KEY-----\n"
	pemC := "-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n"
	tests := []struct {
		name      string
		want, got string
		ok        bool
	}{
		{"identical", "a: 1\nb: 2\n", "a: 1\nb: 2\n", true},
		{"real difference", "a: 1\nb: 2\n", "a: 1\nb: 3\n", false},
		{"missing line", "a: 1\nb: 2\n", "a: 1\n", false},
		{"alnum token", "  password: \"c3i0lWBgSqOkPLt00sokehusMh3XynDc\"\n", "  password: \"Qx81nB0aXkPzlW2mD5vRtYh7cJ9sLe4u\"\n", true},
		{"alnum token other length", "  password: \"c3i0lWBgSqOk\"\n", "  password: \"Qx81nB0aXkPzl\"\n", false},
		{"base64 padding", "  p: \"dXhvVVk5ZjE5OER0Y3ZEQw==\"\n", "  p: \"QjJPelRpZlphV1RwVGF0QW==\"\n", true},
		{"base64 padding differs", "  p: \"dXhvVVk5ZjE5OER0Y3ZEQw==\"\n", "  p: \"QjJPelRpZlphV1RwVGF0QWx=\"\n", false},
		{"short word", "  mode: fast\n", "  mode: slow\n", false},
		{"small number", "  port: 8080\n", "  port: 9090\n", false},
		{"digits", "  pin: \"239750\"\n", "  pin: \"018342\"\n", true},
		{"digits against letters", "  pin: \"239750\"\n", "  pin: \"a18342\"\n", false},
		{"key differs", "  a-password: \"c3i0lWBgSqOkPLt0\"\n", "  b-password: \"Qx81nB0aXkPzlW2m\"\n", false},
		{"uuid", "  id: \"276b3efe-ec4b-4aba-b257-07f656e1ed70\"\n", "  id: \"0f9a1c2d-3b4e-4f60-8a7b-9c0d1e2f3a4b\"\n", true},
		{"bcrypt", "  h: \"app:$2a$10$HCtQC0NhkeaWfXdaSOMBHONBRqypFytpzgHIK/tgkR2NZTddW7LOS\"\n",
			"  h: \"app:$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234\"\n", true},
		{"bcrypt user differs", "  h: \"app:$2a$10$HCtQC0NhkeaWfXdaSOMBHONBRqypFytpzgHIK/tgkR2NZTddW7LOS\"\n",
			"  h: \"bob:$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234\"\n", false},
		{"pem blocks of different length", "x: 1\n" + cert("    QUJD\n") + "y: 2\n", "x: 1\n" + cert("    QUJD\n    REVG\n") + "y: 2\n", true},
		{"pem then difference", "x: 1\n" + cert("    QUJD\n") + "y: 2\n", "x: 1\n" + cert("    QUJD\n    REVG\n") + "y: 3\n", false},
		{"base64 pem same type", "  tls.key: " + b64(pemA) + "\n", "  tls.key: " + b64(pemB) + "\n", true},
		{"base64 pem other type", "  tls.key: " + b64(pemA) + "\n", "  tls.key: " + b64(pemC) + "\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := compareRandomAware(tt.want, tt.got)
			if (err == nil) != tt.ok {
				t.Fatalf("compareRandomAware = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestErrorLocations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		msg  string
		want []string
	}{
		{`template: c/templates/x.yaml:6:8: executing "c/templates/x.yaml" at <include "a" .>: error calling include: template: c/templates/_h.tpl:2:3: executing "a"`,
			[]string{"c/templates/x.yaml:6", "c/templates/x.yaml", "c/templates/_h.tpl:2"}},
		{`execution error at (fail-call/templates/deployment.yaml:7:6): boom`, []string{"fail-call/templates/deployment.yaml:7"}},
		{`parse error at (p/templates/broken.yaml:7): unexpected "}" in operand`, []string{"p/templates/broken.yaml:7"}},
		{`YAML parse error on c/templates/cm.yaml: error converting YAML to JSON`, []string{"c/templates/cm.yaml"}},
		{`cannot load values.yaml: error converting YAML to JSON`, []string{"values.yaml"}},
		{`library charts are not installable`, nil},
	}
	for _, tt := range tests {
		got := errorLocations(tt.msg)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("errorLocations(%q) = %q, want %q", tt.msg, got, tt.want)
		}
	}
	sites := errorSites(tests[0].msg)
	if want := "c/templates/x.yaml:6|c/templates/_h.tpl:2"; strings.Join(sites, "|") != want {
		t.Errorf("errorSites = %q, want %q", sites, want)
	}
}
