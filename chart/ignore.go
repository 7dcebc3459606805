package chart

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// IgnoreFileName is the file at a chart's root that lists paths to leave
// out when loading the chart from a directory.
const IgnoreFileName = ".helmignore"

// defaultIgnoreRule ("templates/.?*") hides dot files directly under
// templates/; it is evaluated after the chart's own rules.
func defaultIgnoreRule() ignoreRule {
	return ignoreRule{glob: "templates/.?*", whole: true}
}

// IgnoreRules is a parsed .helmignore file. The format is Helm's, which
// resembles .gitignore but is not the same:
//
//   - one glob per line, matched with filepath.Match; blank lines and lines
//     starting with "#" are skipped; surrounding white space is trimmed;
//   - a pattern without "/" is matched against the base name, a pattern with
//     a "/" against the whole path relative to the chart root, and a leading
//     "/" only anchors the pattern to the root;
//   - a trailing "/" makes the pattern apply to directories only; an ignored
//     directory is not descended into;
//   - "**" is an error;
//   - rules are tried in order and the first that decides wins. A plain rule
//     decides "ignore" when it matches. A negated rule ("!pattern") does not
//     re-include anything: it decides "ignore" for every path it does NOT
//     match (and, with a trailing "/", for every file), and lets a matching
//     path go on to the next rule. This is how Helm evaluates negation.
//
// The zero value ignores nothing.
type IgnoreRules struct {
	rules []ignoreRule
}

// ignoreRule is one line of a .helmignore file.
type ignoreRule struct {
	glob    string // the pattern without "!", trailing "/" or leading "/"
	negate  bool
	dirOnly bool
	// whole is true when glob is matched against the whole relative path,
	// false when against the base name only.
	whole bool
}

// ParseIgnore reads .helmignore rules, one a line. An error names the line.
func ParseIgnore(r io.Reader) (*IgnoreRules, error) {
	rules := &IgnoreRules{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if n == 1 {
			line = bytes.TrimPrefix(line, []byte(utf8BOM))
		}
		if err := rules.Add(string(line)); err != nil {
			return rules, fmt.Errorf("line %d: %w", n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return rules, err
	}
	return rules, nil
}

// Add parses one line and appends the rule it holds, if any.
func (r *IgnoreRules) Add(line string) error {
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' {
		return nil
	}
	if strings.Contains(line, "**") {
		return ErrDoubleStar
	}
	// Refuse a malformed glob up front, as far as filepath.Match finds it
	// when matching "abc" (Helm's check; path.Match would find more).
	if _, err := filepath.Match(line, "abc"); err != nil {
		return fmt.Errorf("pattern %q: %w", line, err)
	}

	rule := ignoreRule{}
	if s, ok := strings.CutPrefix(line, "!"); ok {
		rule.negate = true
		line = s
	}
	if s, ok := strings.CutSuffix(line, "/"); ok {
		rule.dirOnly = true
		line = s
	}
	switch {
	case strings.HasPrefix(line, "/"):
		rule.whole = true
		line = line[1:]
	case strings.Contains(line, "/"):
		rule.whole = true
	}
	rule.glob = line
	r.rules = append(r.rules, rule)
	return nil
}

// Ignore reports whether the path (relative to the chart root, with
// slashes) is to be left out. isDir says whether the path names a
// directory. The chart root itself ("", "." or "./") is never ignored.
func (r *IgnoreRules) Ignore(p string, isDir bool) bool {
	if r == nil || p == "" || p == "." || p == "./" {
		return false
	}
	for _, rule := range r.rules {
		if rule.dirOnly && !isDir {
			if rule.negate {
				return true
			}
			continue
		}
		if rule.matches(p) {
			if !rule.negate {
				return true
			}
			continue
		}
		if rule.negate {
			return true
		}
	}
	return false
}

// matches reports whether the rule's glob matches p.
func (rule ignoreRule) matches(p string) bool {
	name := p
	if !rule.whole {
		name = filepath.Base(p)
	}
	ok, err := filepath.Match(rule.glob, name)
	return err == nil && ok
}

// withDefaults returns the rules with the default rule appended.
func (r *IgnoreRules) withDefaults() *IgnoreRules {
	out := &IgnoreRules{}
	if r != nil {
		out.rules = append(out.rules, r.rules...)
	}
	out.rules = append(out.rules, defaultIgnoreRule())
	return out
}
