package lint

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/Masterminds/semver/v3"
	"sigs.k8s.io/yaml"

	"pkg.dev/pkg/chart"
)

// chartfileRules checks Chart.yaml. Every finding is about "Chart.yaml";
// the rules after the parse need a parsable file and are skipped without
// one.
func (l *linter) chartfileRules() {
	const file = chart.ChartfileName
	p := filepath.Join(l.dir, file)

	l.res.check(Error, file, chartfileNotDirectory(p))

	md, err := readChartfile(p)
	if !l.res.check(Error, file, chartfileParses(err)) {
		return
	}
	// Decoded again without a schema, to see the YAML types of fields
	// that Metadata would turn into strings.
	raw := readChartfileRaw(p)

	l.res.check(Error, file, chartName(md))
	l.res.check(Error, file, chartAPIVersion(md))
	l.res.check(Error, file, isString(raw, "version"))
	l.res.check(Error, file, chartVersion(md))
	l.res.check(Error, file, isString(raw, "appVersion"))
	l.res.check(Error, file, l.chartMaintainers(md))
	l.res.check(Error, file, chartSources(md))
	l.res.check(Info, file, chartIconPresent(md))
	l.res.check(Error, file, chartIconURL(md))
	l.res.check(Error, file, chartTypeAllowed(md))
	l.res.check(Error, file, chartDependenciesAllowed(md))
}

// readChartfile decodes Chart.yaml as Helm does: not strictly, so unknown
// fields are ignored and scalars given for string fields become strings.
func readChartfile(p string) (*chart.Metadata, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	md := new(chart.Metadata)
	return md, yaml.Unmarshal(b, md)
}

// readChartfileRaw decodes Chart.yaml into a generic map; errors leave
// it empty, as the parse rule has reported them already.
func readChartfileRaw(p string) map[string]any {
	raw := map[string]any{}
	if b, err := os.ReadFile(p); err == nil {
		_ = yaml.Unmarshal(b, &raw)
	}
	return raw
}

func chartfileNotDirectory(p string) error {
	if fi, err := os.Stat(p); err == nil && fi.IsDir() {
		return errors.New("should be a file, not a directory")
	}
	return nil
}

func chartfileParses(err error) error {
	if err != nil {
		return fmt.Errorf("unable to parse YAML\n\t%w", err)
	}
	return nil
}

// isString checks that a field, when present, is a YAML string.
func isString(raw map[string]any, key string) error {
	v, ok := raw[key]
	if !ok {
		return nil
	}
	if _, ok := v.(string); !ok {
		return fmt.Errorf("%s should be of type string but it's of type %T", key, v)
	}
	return nil
}

func chartName(md *chart.Metadata) error {
	if md.Name == "" {
		return errors.New("name is required")
	}
	if filepath.Base(md.Name) != md.Name {
		return fmt.Errorf("chart name %q is invalid", md.Name)
	}
	return nil
}

func chartAPIVersion(md *chart.Metadata) error {
	switch md.APIVersion {
	case "":
		return errors.New(`apiVersion is required. The value must be either "v1" or "v2"`)
	case chart.APIVersionV1, chart.APIVersionV2:
		return nil
	}
	return fmt.Errorf(`apiVersion '%s' is not valid. The value must be either "v1" or "v2"`, md.APIVersion)
}

// chartVersion requires a SemVer 2 version above 0.0.0-0.
func chartVersion(md *chart.Metadata) error {
	if md.Version == "" {
		return errors.New("version is required")
	}
	v, err := semver.NewVersion(md.Version)
	if err != nil {
		return fmt.Errorf("version '%s' is not a valid SemVer", md.Version)
	}
	c, err := semver.NewConstraint(">0.0.0-0")
	if err != nil {
		return err
	}
	if ok, problems := c.Validate(v); !ok && len(problems) > 0 {
		return fmt.Errorf("version %v", problems[0])
	}
	return nil
}

// chartMaintainers reports the first maintainer entry that is empty,
// unnamed, or has a malformed e-mail address or URL.
func (l *linter) chartMaintainers(md *chart.Metadata) error {
	for _, m := range md.Maintainers {
		switch {
		case m == nil:
			return errors.New("a maintainer entry is empty")
		case m.Name == "":
			return errors.New("each maintainer requires a name")
		case m.Email != "" && !l.addr.isEmail(m.Email):
			return fmt.Errorf("invalid email '%s' for maintainer '%s'", m.Email, m.Name)
		case m.URL != "" && !l.addr.isURL(m.URL):
			return fmt.Errorf("invalid url '%s' for maintainer '%s'", m.URL, m.Name)
		}
	}
	return nil
}

func chartSources(md *chart.Metadata) error {
	for _, s := range md.Sources {
		if s == "" || !isRequestURL(s) {
			return fmt.Errorf("invalid source URL '%s'", s)
		}
	}
	return nil
}

func chartIconPresent(md *chart.Metadata) error {
	if md.Icon == "" {
		return errors.New("icon is recommended")
	}
	return nil
}

func chartIconURL(md *chart.Metadata) error {
	if md.Icon != "" && !isRequestURL(md.Icon) {
		return fmt.Errorf("invalid icon URL '%s'", md.Icon)
	}
	return nil
}

func chartDependenciesAllowed(md *chart.Metadata) error {
	if len(md.Dependencies) > 0 && md.APIVersion != chart.APIVersionV2 {
		return fmt.Errorf("dependencies are not valid in the Chart file with apiVersion '%s'. They are valid in apiVersion '%s'", md.APIVersion, chart.APIVersionV2)
	}
	return nil
}

func chartTypeAllowed(md *chart.Metadata) error {
	if md.Type != "" && md.APIVersion != chart.APIVersionV2 {
		return fmt.Errorf("chart type is not valid in apiVersion '%s'. It is valid in apiVersion '%s'", md.APIVersion, chart.APIVersionV2)
	}
	return nil
}
