package lint

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"pkg.dev/pkg/chart"
	"pkg.dev/pkg/render"
)

// Options configure one lint run.
type Options struct {
	// Values are the user's overrides (-f, --set, ...), already merged.
	// Like Helm, the run may merge chart defaults into the nested tables
	// of this map; callers linting several charts share it, as Helm does.
	Values map[string]any
	// Namespace is .Release.Namespace while rendering.
	Namespace string
	// KubeVersion is the Kubernetes version for .Capabilities and for the
	// deprecated-API rule; nil means v1.37.0.
	KubeVersion *render.KubeVersion
	// SkipSchemaValidation skips values.schema.json while rendering. The
	// values.yaml rule checks the schema regardless, as Helm's does.
	SkipSchemaValidation bool
}

// releaseName is the release name templates see while linting.
const releaseName = "test-release"

// linter carries one run over one chart directory.
type linter struct {
	dir  string // absolute chart directory
	opts Options
	res  *Result
	addr *addressSyntax
}

// Dir lints the chart unpacked in dir and returns every finding. It does
// not fail: problems reading the chart are findings too.
func Dir(ctx context.Context, dir string, opts Options) *Result {
	abs, err := filepath.Abs(dir)
	if err != nil {
		// Helm goes on with an empty directory name; so does this.
		abs = ""
	}
	l := &linter{dir: abs, opts: opts, res: &Result{Dir: abs}, addr: newAddressSyntax()}
	for _, rule := range []func(){l.chartfileRules, l.valuesRules, l.templateRules, l.dependencyRules} {
		if ctx.Err() != nil {
			break
		}
		rule()
	}
	return l.res
}

// IsArchive reports whether path names a chart archive, which Path
// unpacks before linting: a name ending in .tgz or .tar.gz.
func IsArchive(path string) bool {
	return strings.HasSuffix(path, ".tgz") || strings.HasSuffix(path, ".tar.gz")
}

// Path lints the chart at path, a directory or an archive (see
// IsArchive). An archive is unpacked into a temporary directory, removed
// afterwards, and the findings about the chart directory name that
// directory. It returns an error, and no result, when path is not a
// chart: an archive that cannot be unpacked or a directory without
// Chart.yaml.
func Path(ctx context.Context, path string, opts Options) (*Result, error) {
	dir := path
	if IsArchive(path) {
		tmp, err := os.MkdirTemp("", "helm-lint")
		if err != nil {
			return nil, fmt.Errorf("unable to create temp dir to extract tarball: %w", err)
		}
		defer os.RemoveAll(tmp)
		dir, err = unpackArchive(path, tmp)
		if err != nil {
			return nil, err
		}
	}
	if _, err := os.Stat(filepath.Join(dir, chart.ChartfileName)); err != nil {
		return nil, fmt.Errorf("unable to check Chart.yaml file in chart: %w", err)
	}
	return Dir(ctx, dir, opts), nil
}
