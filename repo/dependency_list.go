package repo

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"

	"pkg.dev/pkg/chart"
)

// DependencyStatus is one row of `dependency list`.
type DependencyStatus struct {
	Name, Version, Repository, Status string
}

// ListDependencies reports the dependencies of the chart at dir and their
// state in charts/ with Helm's words: ok, missing, wrong version,
// misnamed, corrupt, unpacked, too many matches, invalid version. extra
// lists the warnings about files in charts/ that Chart.yaml does not
// name. A chart without dependencies returns nil rows.
func ListDependencies(dir string) (rows []DependencyStatus, extra []string, err error) {
	c, err := chart.Load(dir)
	if err != nil {
		return nil, nil, err
	}
	if c.Metadata.Dependencies == nil {
		return nil, nil, nil
	}
	for _, dep := range c.Metadata.Dependencies {
		rows = append(rows, DependencyStatus{dep.Name, dep.Version, dep.Repository, dependencyStatus(dir, dep, c)})
	}
	files, _ := filepath.Glob(filepath.Join(dir, "charts", "*"))
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			extra = append(extra, fmt.Sprintf("Warning: %s", err))
			continue
		}
		if !fi.IsDir() && filepath.Ext(f) != ".tgz" {
			continue
		}
		ch, err := chart.Load(f)
		if err != nil {
			extra = append(extra, fmt.Sprintf("WARNING: %q is not a chart.", f))
			continue
		}
		if !slices.ContainsFunc(c.Metadata.Dependencies, func(d *chart.Dependency) bool { return d.Name == ch.Name() }) {
			extra = append(extra, fmt.Sprintf("WARNING: %q is not in Chart.yaml.", f))
		}
	}
	return rows, extra, nil
}

func dependencyStatus(dir string, dep *chart.Dependency, parent *chart.Chart) string {
	archives, err := filepath.Glob(filepath.Join(dir, "charts", dep.Name+"-*.tgz"))
	switch {
	case err != nil:
		return "bad pattern"
	case len(archives) > 1:
		var found []string
		for _, a := range archives {
			v := strings.TrimPrefix(strings.TrimSuffix(filepath.Base(a), ".tgz"), dep.Name+"-")
			if _, err := semver.StrictNewVersion(v); err == nil {
				found = append(found, a)
			}
		}
		if len(found) == 1 {
			if s := archiveStatus(found[0], dep); s != "" {
				return s
			}
		} else if len(found) > 1 {
			return "too many matches"
		}
	case len(archives) == 1:
		if s := archiveStatus(archives[0], dep); s != "" {
			return s
		}
	}
	var sub *chart.Chart
	for _, c := range parent.Dependencies() {
		if c.Name() == dep.Name {
			sub = c
		}
	}
	if sub == nil {
		return "missing"
	}
	return versionStatus(sub.Metadata.Version, dep.Version, "unpacked")
}

func archiveStatus(archive string, dep *chart.Dependency) string {
	if _, err := os.Stat(archive); err != nil {
		return ""
	}
	c, err := chart.Load(archive)
	if err != nil {
		return "corrupt"
	}
	if c.Name() != dep.Name {
		return "misnamed"
	}
	return versionStatus(c.Metadata.Version, dep.Version, "ok")
}

func versionStatus(have, want, ok string) string {
	if have == want {
		return ok
	}
	c, err := semver.NewConstraint(want)
	if err != nil {
		return "invalid version"
	}
	v, err := semver.NewVersion(have)
	if err != nil {
		return "invalid version"
	}
	if !c.Check(v) {
		return "wrong version"
	}
	return ok
}
