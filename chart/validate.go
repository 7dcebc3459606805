package chart

import (
	"path/filepath"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/Masterminds/semver/v3"
)

// aliasPattern is what a dependency alias may consist of.
var aliasPattern = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// Validate checks the chart's metadata; see Metadata.Validate.
func (c *Chart) Validate() error {
	if c == nil {
		return &ValidationError{Msg: "chart.metadata is required"}
	}
	return c.Metadata.Validate()
}

// Validate checks the metadata against the rules Helm applies when it
// loads or packages a chart, and returns the first rule broken as a
// *ValidationError with Helm's message.
//
// Like Helm, Validate first normalises the free-text fields in place: every
// kind of white space becomes a plain space and other non-printable
// characters are removed. The rules, in order: apiVersion, name and
// version are required; the name may not be "." or ".." nor contain a path
// separator; the version must be semantic; type is empty, "application" or
// "library"; maintainers and dependencies hold no null entries; an alias
// uses only letters, digits, "_" and "-"; no two dependencies share a name
// or alias. Validate does not restrict apiVersion to the known values (Helm
// loads charts with any apiVersion); use CheckAPIVersion for that.
func (m *Metadata) Validate() error {
	if m == nil {
		return &ValidationError{Msg: "chart.metadata is required"}
	}
	m.sanitize()

	switch {
	case m.APIVersion == "":
		return &ValidationError{Msg: "chart.metadata.apiVersion is required"}
	case m.Name == "":
		return &ValidationError{Msg: "chart.metadata.name is required"}
	case m.Name == "." || m.Name == "..":
		return validationErrorf("chart.metadata.name %q is not allowed", m.Name)
	case m.Name != filepath.Base(m.Name):
		return validationErrorf("chart.metadata.name %q is invalid", m.Name)
	case m.Version == "":
		return &ValidationError{Msg: "chart.metadata.version is required"}
	}
	if _, err := semver.NewVersion(m.Version); err != nil {
		return validationErrorf("chart.metadata.version %q is invalid", m.Version)
	}
	switch m.Type {
	case "", TypeApplication, TypeLibrary:
	default:
		return &ValidationError{Msg: "chart.metadata.type must be application or library"}
	}
	for _, mt := range m.Maintainers {
		if err := mt.Validate(); err != nil {
			return err
		}
	}
	seen := make(map[string]bool, len(m.Dependencies))
	for _, d := range m.Dependencies {
		if err := d.Validate(); err != nil {
			return err
		}
		key := d.Name
		if d.Alias != "" {
			key = d.Alias
		}
		if seen[key] {
			return validationErrorf("more than one dependency with name or alias %q", key)
		}
		seen[key] = true
	}
	return nil
}

// CheckAPIVersion reports whether the metadata's apiVersion is one Helm 3
// knows, with the messages `helm lint` uses.
func (m *Metadata) CheckAPIVersion() error {
	switch {
	case m == nil || m.APIVersion == "":
		return &ValidationError{Msg: `apiVersion is required. The value must be either "v1" or "v2"`}
	case m.APIVersion != APIVersionV1 && m.APIVersion != APIVersionV2:
		return validationErrorf(`apiVersion '%s' is not valid. The value must be either "v1" or "v2"`, m.APIVersion)
	}
	return nil
}

// Validate normalises the maintainer's fields and reports a null entry.
func (mt *Maintainer) Validate() error {
	if mt == nil {
		return &ValidationError{Msg: "maintainers must not contain empty or null nodes"}
	}
	mt.Name = cleanText(mt.Name)
	mt.Email = cleanText(mt.Email)
	mt.URL = cleanText(mt.URL)
	return nil
}

// Validate normalises the dependency's fields and checks its alias.
func (d *Dependency) Validate() error {
	if d == nil {
		return &ValidationError{Msg: "dependencies must not contain empty or null nodes"}
	}
	d.Name = cleanText(d.Name)
	d.Version = cleanText(d.Version)
	d.Repository = cleanText(d.Repository)
	d.Condition = cleanText(d.Condition)
	for i, t := range d.Tags {
		d.Tags[i] = cleanText(t)
	}
	if d.Alias != "" && !aliasPattern.MatchString(d.Alias) {
		return validationErrorf("dependency %q has disallowed characters in the alias", d.Name)
	}
	return nil
}

// sanitize normalises the free-text fields Helm normalises.
func (m *Metadata) sanitize() {
	for _, s := range []*string{
		&m.Name, &m.Description, &m.Home, &m.Icon, &m.Condition,
		&m.Tags, &m.AppVersion, &m.KubeVersion,
	} {
		*s = cleanText(*s)
	}
	for i, s := range m.Sources {
		m.Sources[i] = cleanText(s)
	}
	for i, s := range m.Keywords {
		m.Keywords[i] = cleanText(s)
	}
}

// cleanText maps white space to a plain space and drops other
// non-printable runes; invalid UTF-8 becomes U+FFFD, as strings.Map does.
func cleanText(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || r != ' ' && (unicode.IsSpace(r) || !unicode.IsPrint(r)) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return ' '
		case unicode.IsPrint(r):
			return r
		}
		return -1
	}, s)
}
