package lint

import (
	"fmt"
	"strings"

	"pkg.dev/pkg/chart"
)

// dependencyRules checks that Chart.yaml's dependencies and the charts
// under charts/ agree, and that no two dependencies share a name or
// alias. Its findings are about the chart directory itself; a chart that
// does not load gets one finding with an empty path.
func (l *linter) dependencyRules() {
	c, err := chart.LoadDir(l.dir)
	if err != nil {
		l.res.check(Error, "", fmt.Errorf("unable to load chart\n\t%w", helmLoadError(err, l.dir)))
		return
	}
	l.res.check(Error, l.dir, undeclaredSubcharts(c))
	l.res.check(Error, l.dir, shadowedDependencies(c))
	l.res.check(Warning, l.dir, missingSubcharts(c))
}

// missingSubcharts names the declared dependencies that charts/ lacks.
func missingSubcharts(c *chart.Chart) error {
	if missing := c.MissingDependencies(); len(missing) > 0 {
		return fmt.Errorf("chart directory is missing these dependencies: %s", strings.Join(missing, ","))
	}
	return nil
}

// undeclaredSubcharts names the charts under charts/ that Chart.yaml does
// not declare.
func undeclaredSubcharts(c *chart.Chart) error {
	declared := map[string]bool{}
	for _, d := range c.Metadata.Dependencies {
		declared[d.Name] = true
	}
	var missing []string
	for _, d := range c.Dependencies() {
		if !declared[d.Metadata.Name] {
			missing = append(missing, d.Metadata.Name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("chart metadata is missing these dependencies: %s", strings.Join(missing, ","))
	}
	return nil
}

// shadowedDependencies names each dependency key (alias, or else name)
// that an earlier dependency already used.
func shadowedDependencies(c *chart.Chart) error {
	seen := map[string]bool{}
	var dup []string
	for _, d := range c.Metadata.Dependencies {
		key := d.Name
		if d.Alias != "" {
			key = d.Alias
		}
		if seen[key] {
			dup = append(dup, key)
		}
		seen[key] = true
	}
	if len(dup) > 0 {
		return fmt.Errorf("multiple dependencies with name or alias: %s", strings.Join(dup, ","))
	}
	return nil
}
