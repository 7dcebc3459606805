package chart

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// MaxChartNameLength bounds the name Create accepts.
const MaxChartNameLength = 250

// chartNamePattern is what Create accepts as a chart name: no path
// separators, quotes, spaces or other characters that break file names,
// template names or Kubernetes fields.
var chartNamePattern = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)

// CreateOptions tunes CreateWithOptions.
type CreateOptions struct {
	// OnOverwrite, if set, is called with the path of every existing file
	// that is about to be replaced, so a caller can warn as `helm create`
	// does ("File ... already exists. Overwriting.").
	OnOverwrite func(path string)
}

// Create writes a new chart named name into dir/name, with the files
// `helm create NAME` writes, and returns the chart's absolute path. dir must
// exist. The name must be 1 to MaxChartNameLength characters of letters,
// digits, ".", "_" and "-", and not "." or "..". An existing dir/name that is
// not a directory is an error; existing scaffold files in it are
// overwritten, other files are left alone.
func Create(name, dir string) (string, error) {
	return CreateWithOptions(name, dir, CreateOptions{})
}

// CreateWithOptions is Create with options.
func CreateWithOptions(name, dir string, opts CreateOptions) (string, error) {
	fail := func(p string, err error) (string, error) {
		return p, &Error{Op: OpCreate, Name: name, Err: err}
	}
	if err := checkNewChartName(name); err != nil {
		return fail("", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fail(abs, err)
	}
	switch fi, err := os.Stat(abs); {
	case err != nil:
		return fail(abs, err)
	case !fi.IsDir():
		return fail(abs, fmt.Errorf("no such directory %s", abs))
	}
	chartDir := filepath.Join(abs, name)
	if fi, err := os.Stat(chartDir); err == nil && !fi.IsDir() {
		return fail(chartDir, fmt.Errorf("file %s already exists and is not a directory", chartDir))
	}

	for _, f := range scaffoldFiles(name) {
		p := filepath.Join(chartDir, filepath.FromSlash(f.Name))
		if opts.OnOverwrite != nil {
			if _, err := os.Stat(p); err == nil {
				opts.OnOverwrite(p)
			}
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fail(chartDir, err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return fail(chartDir, err)
		}
	}
	// charts/ holds no file yet; make it all the same.
	if err := os.MkdirAll(filepath.Join(chartDir, ChartsDir), 0o755); err != nil {
		return fail(chartDir, err)
	}
	return chartDir, nil
}

// checkNewChartName applies Create's rules for a chart name.
func checkNewChartName(name string) error {
	switch {
	case name == "" || len(name) > MaxChartNameLength:
		return fmt.Errorf("%w: chart name must be between 1 and %d characters", ErrInvalidName, MaxChartNameLength)
	case !chartNamePattern.MatchString(name):
		return fmt.Errorf("%w: chart name must match the regular expression %q", ErrInvalidName, chartNamePattern.String())
	case name == "." || name == "..":
		return fmt.Errorf("%w: chart name %q is not allowed", ErrInvalidName, name)
	}
	return nil
}

// scaffoldFiles returns the files of a new chart, in the order `helm
// create` writes them, with the chart name filled in.
func scaffoldFiles(name string) []*File {
	fill := func(text string) []byte {
		return []byte(strings.ReplaceAll(text, scaffoldNamePlaceholder, name))
	}
	return []*File{
		{Name: ChartfileName, Data: fill(scaffoldChartYAML)},
		{Name: ValuesfileName, Data: fill(scaffoldValuesYAML)},
		{Name: IgnoreFileName, Data: []byte(scaffoldHelmignore)},
		{Name: "templates/ingress.yaml", Data: fill(scaffoldIngress)},
		{Name: "templates/httproute.yaml", Data: fill(scaffoldHTTPRoute)},
		{Name: "templates/deployment.yaml", Data: fill(scaffoldDeployment)},
		{Name: "templates/service.yaml", Data: fill(scaffoldService)},
		{Name: "templates/serviceaccount.yaml", Data: fill(scaffoldServiceAccount)},
		{Name: "templates/hpa.yaml", Data: fill(scaffoldHPA)},
		{Name: "templates/NOTES.txt", Data: fill(scaffoldNotes)},
		{Name: "templates/_helpers.tpl", Data: fill(scaffoldHelpers)},
		{Name: "templates/tests/test-connection.yaml", Data: fill(scaffoldTestConnection)},
	}
}
