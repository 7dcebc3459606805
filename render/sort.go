package render

import (
	"path"
	"slices"
	"strconv"
	"strings"
)

// notesSuffix ends the name of a chart's notes template, which renders text
// for the user rather than a manifest.
const notesSuffix = "NOTES.txt"

// Manifest is one YAML document of a rendered template.
type Manifest struct {
	// Name is the template the document came from
	// ("mychart/templates/deployment.yaml").
	Name string
	// Content is the document, trimmed, without its "---" separator.
	Content string
	// Head is what the document says about itself; never nil.
	Head *SimpleHead
}

// SimpleHead is the part of a manifest that sorting reads: its API version,
// kind, name and annotations. It decodes as Helm's releaseutil.SimpleHead.
type SimpleHead struct {
	Version  string        `json:"apiVersion"`
	Kind     string        `json:"kind,omitempty"`
	Metadata *HeadMetadata `json:"metadata,omitempty"`
}

// HeadMetadata is the part of a manifest's metadata that sorting reads.
//
// It is an alias of an unnamed struct type, as Helm's is, so that decoding
// errors name its fields exactly as Helm's do.
type HeadMetadata = struct {
	Name        string            `json:"name"`
	Annotations map[string]string `json:"annotations"`
}

// ManifestParseError reports a rendered template whose output is not valid
// YAML, or whose documents do not have the shape of a Kubernetes object. Its
// text is Helm's: "YAML parse error on <path>: <reason>".
type ManifestParseError struct {
	// Path is the template, as keyed in the rendered files.
	Path string
	// Err is the YAML or JSON decoding error.
	Err error
}

// Error returns Helm's text for the error.
func (e *ManifestParseError) Error() string {
	return "YAML parse error on " + e.Path + ": " + e.Err.Error()
}

// Unwrap returns the decoding error.
func (e *ManifestParseError) Unwrap() error { return e.Err }

// SortManifests splits rendered templates into hooks and plain manifests and
// orders both by kind, exactly as Helm v3.22 does when it installs (with
// InstallOrder) or uninstalls (with UninstallOrder).
//
// files maps template paths to rendered text. Templates whose base name
// starts with "_" (partials), whose path ends in "NOTES.txt" (Helm takes
// notes out before sorting) or whose text is only whitespace are skipped.
// The others are taken in path order and split into documents with the
// rules of SplitManifests.
//
// A document whose metadata.annotations has helm.sh/hook becomes a Hook,
// unless one of the events it lists is unknown: Helm then drops the
// document altogether. Every other document, comments-only ones included,
// becomes a Manifest. Both lists are sorted stably by order; documents of
// one kind keep their path and stream order.
//
// Helm's SortManifests also takes the cluster's API versions but does not
// use them, so this one does not take them.
//
// On a document that is not valid YAML, or whose head does not decode (a
// list, a scalar, a kind that is a map…), SortManifests stops with a
// *ManifestParseError and returns, unsorted, what it had gathered before.
func SortManifests(files map[string]string, order KindSortOrder) ([]*Hook, []Manifest, error) {
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	slices.Sort(paths)

	var (
		hooks   []*Hook
		generic []Manifest
		docs    []string
	)
	for _, p := range paths {
		content := files[p]
		if strings.HasPrefix(path.Base(p), "_") || strings.HasSuffix(p, notesSuffix) ||
			strings.TrimSpace(content) == "" {
			continue
		}
		docs = appendManifestDocs(docs[:0], content)
		for _, doc := range docs {
			head, err := parseManifestHead(doc)
			if err != nil {
				return hooks, generic, &ManifestParseError{Path: p, Err: err}
			}
			hook, isHook, known := hookFromHead(p, doc, head)
			switch {
			case !isHook:
				generic = append(generic, Manifest{Name: p, Content: doc, Head: head})
			case known:
				hooks = append(hooks, hook)
			}
		}
	}

	ranks := newKindRanker(order)
	sortByKind(hooks, ranks, func(h *Hook) string { return h.Kind })
	sortByKind(generic, ranks, func(m Manifest) string { return m.Head.Kind })
	return hooks, generic, nil
}

// hookFromHead makes the hook that a document declares. isHook is false
// when the document has no helm.sh/hook annotation; known is false when the
// annotation names an event Helm does not know, which makes Helm skip the
// document.
func hookFromHead(p, doc string, head *SimpleHead) (hook *Hook, isHook, known bool) {
	if head.Metadata == nil || len(head.Metadata.Annotations) == 0 {
		return nil, false, false
	}
	ann := head.Metadata.Annotations
	events, ok := ann[HookAnnotation]
	if !ok {
		return nil, false, false
	}
	h := &Hook{
		Name:              head.Metadata.Name,
		Kind:              head.Kind,
		Path:              p,
		Manifest:          doc,
		Events:            []HookEvent{},
		DeletePolicies:    []HookDeletePolicy{},
		OutputLogPolicies: []HookOutputLogPolicy{},
	}
	for name := range strings.SplitSeq(events, ",") {
		e, ok := hookEventNamed(strings.ToLower(strings.TrimSpace(name)))
		if !ok {
			return nil, true, false
		}
		h.Events = append(h.Events, e)
	}
	if w, err := strconv.Atoi(ann[HookWeightAnnotation]); err == nil {
		h.Weight = w
	}
	if v, ok := ann[HookDeleteAnnotation]; ok {
		for pol := range strings.SplitSeq(v, ",") {
			h.DeletePolicies = append(h.DeletePolicies, HookDeletePolicy(strings.ToLower(strings.TrimSpace(pol))))
		}
	}
	if v, ok := ann[HookOutputLogAnnotation]; ok {
		for pol := range strings.SplitSeq(v, ",") {
			h.OutputLogPolicies = append(h.OutputLogPolicies, HookOutputLogPolicy(strings.ToLower(strings.TrimSpace(pol))))
		}
	}
	return h, true, true
}

// sortByKind sorts items stably by the rank of their kind.
func sortByKind[T any](items []T, ranks kindRanker, kindOf func(T) string) {
	if len(items) < 2 {
		return
	}
	type ranked struct {
		rank kindRank
		item T
	}
	rs := make([]ranked, len(items))
	for i, it := range items {
		rs[i] = ranked{ranks.rank(kindOf(it)), it}
	}
	slices.SortStableFunc(rs, func(a, b ranked) int { return compareKindRanks(a.rank, b.rank) })
	for i := range rs {
		items[i] = rs[i].item
	}
}
