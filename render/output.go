package render

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// OutputOptions shape what `template` prints.
type OutputOptions struct {
	// DisableHooks leaves hooks out (--no-hooks).
	DisableHooks bool
	// SkipTests leaves test hooks out (--skip-tests).
	SkipTests bool
	// ShowOnly keeps only documents rendered from these templates, given
	// as paths within the chart ("templates/service.yaml") or globs
	// (--show-only).
	ShowOnly []string
}

// IsTest reports whether the hook runs on `test`.
func (h *Hook) IsTest() bool {
	for _, e := range h.Events {
		if e == HookTest {
			return true
		}
	}
	return false
}

var sourceLine = regexp.MustCompile(`# Source: [^/]+/(.+)`)

// TemplateOutput composes what `helm template` prints from a release
// manifest (Result.Manifest, possibly post-rendered) and its hooks: the
// manifest, then each hook, then --show-only's selection. Its bytes are
// Helm's.
func TemplateOutput(manifest string, hooks []*Hook, o OutputOptions) (string, error) {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(manifest))
	b.WriteByte('\n')
	if !o.DisableHooks {
		for _, h := range hooks {
			if o.SkipTests && h.IsTest() {
				continue
			}
			fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", h.Path, h.Manifest)
		}
	}
	if len(o.ShowOnly) == 0 {
		return b.String(), nil
	}

	docs := SplitManifests(b.String())
	keys := make([]string, 0, len(docs))
	for k := range docs {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return splitIndex(keys[i]) < splitIndex(keys[j]) })

	var out strings.Builder
	for _, want := range o.ShowOnly {
		want = filepath.ToSlash(want)
		found := false
		for _, k := range keys {
			doc := docs[k]
			m := sourceLine.FindStringSubmatch(doc)
			if m == nil {
				continue
			}
			if ok, _ := filepath.Match(want, m[1]); !ok {
				continue
			}
			fmt.Fprintf(&out, "---\n%s\n", doc)
			found = true
		}
		if !found {
			return "", fmt.Errorf("could not find template %s in chart", want)
		}
	}
	return out.String(), nil
}

// splitIndex is N of a SplitManifests key "manifest-N".
func splitIndex(key string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(key, "manifest-"))
	if err != nil {
		return -1
	}
	return n
}
