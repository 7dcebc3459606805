package repo

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// SearchMaxScore is the score below which a match is kept: the match
// must lie within the first fields of a chart's search line (Helm's 25).
const SearchMaxScore = 25

// searchSep separates the fields of a search line.
const searchSep = '\v'

// SearchResult is one chart version matched by a search.
type SearchResult struct {
	// Name is REPO/CHART.
	Name string
	// Score is the index of the field the match starts in (0 is the
	// chart name); lower is better.
	Score int
	Chart *ChartVersion
}

// SearchIndex searches the charts of several repositories as
// `helm search repo` does: each chart version is a line of its name,
// REPO/NAME, description and keywords, matched literally
// (case-insensitively) or by regular expression.
type SearchIndex struct {
	items []searchItem
}

type searchItem struct {
	name  string // REPO/CHART
	line  string // fields separated by searchSep
	lower string // line in lower case, for literal searches
	chart *ChartVersion
}

// AddRepo adds the charts of repository name: every version when all is
// set, else only the newest of each chart.
func (s *SearchIndex) AddRepo(name string, idx *IndexFile, all bool) {
	for chartName, vs := range idx.Entries {
		if len(vs) == 0 {
			continue
		}
		full := path.Join(name, chartName)
		if !all {
			vs = vs[:1]
		}
		for _, cv := range vs {
			line := cv.Name + string(searchSep) + name + "/" + cv.Name + string(searchSep) + cv.Description + string(searchSep) + strings.Join(cv.Keywords, " ")
			s.items = append(s.items, searchItem{name: full, line: line, chart: cv})
		}
	}
}

// All returns every chart version added, unsorted.
func (s *SearchIndex) All() []*SearchResult {
	out := make([]*SearchResult, len(s.items))
	for n, it := range s.items {
		out[n] = &SearchResult{Name: it.name, Chart: it.chart}
	}
	return out
}

// Search returns the chart versions whose line matches term with a score
// below SearchMaxScore, unsorted. With useRegexp, term is a Go regular
// expression (case-sensitive, as in Helm).
func (s *SearchIndex) Search(term string, useRegexp bool) ([]*SearchResult, error) {
	var match func(it *searchItem) int
	if useRegexp {
		re, err := regexp.Compile(term)
		if err != nil {
			return nil, fmt.Errorf("invalid regular expression %q: %w", term, err)
		}
		match = func(it *searchItem) int {
			loc := re.FindStringIndex(it.line)
			if loc == nil {
				return -1
			}
			return loc[0]
		}
	} else {
		term = strings.ToLower(term)
		match = func(it *searchItem) int {
			if it.lower == "" {
				it.lower = strings.ToLower(it.line)
			}
			return strings.Index(it.lower, term)
		}
	}
	out := []*SearchResult{}
	for n := range s.items {
		it := &s.items[n]
		at := match(it)
		if at < 0 {
			continue
		}
		line := it.line
		if !useRegexp {
			line = it.lower
		}
		if score := fieldAt(line, at); score < SearchMaxScore {
			out = append(out, &SearchResult{Name: it.name, Score: score, Chart: it.chart})
		}
	}
	return out, nil
}

// fieldAt is the number of separators before byte offset at in line.
func fieldAt(line string, at int) int {
	return strings.Count(line[:at], string(searchSep))
}

// SortResults orders results by score, then name, then version newest
// first.
func SortResults(rs []*SearchResult) {
	vers := make(map[*ChartVersion]*semver.Version, len(rs))
	version := func(cv *ChartVersion) *semver.Version {
		v, ok := vers[cv]
		if !ok {
			v, _ = semver.NewVersion(cv.Version)
			vers[cv] = v
		}
		return v
	}
	slices.SortStableFunc(rs, func(a, b *SearchResult) int {
		if a.Score != b.Score {
			return a.Score - b.Score
		}
		if a.Name != b.Name {
			return strings.Compare(a.Name, b.Name)
		}
		va, vb := version(a.Chart), version(b.Chart)
		if va == nil || vb == nil {
			return 0
		}
		return vb.Compare(va)
	})
}

// FilterVersions keeps the results whose version satisfies constraint
// (every one when it is empty); unless allVersions is set only the first
// satisfying result of each chart is kept. rs must be sorted.
func FilterVersions(rs []*SearchResult, constraint string, allVersions bool) ([]*SearchResult, error) {
	if constraint == "" {
		return rs, nil
	}
	c, err := semver.NewConstraint(constraint)
	if err != nil {
		return nil, fmt.Errorf("an invalid version/constraint format: %w", err)
	}
	out := rs[:0]
	seen := map[string]bool{}
	for _, r := range rs {
		if !allVersions && seen[r.Name] {
			continue
		}
		v, err := semver.NewVersion(r.Chart.Version)
		if err != nil {
			continue
		}
		if c.Check(v) {
			out = append(out, r)
			seen[r.Name] = true
		}
	}
	return out, nil
}
