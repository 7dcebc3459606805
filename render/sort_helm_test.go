package render

import (
	"fmt"
	"io"
	"log"
	"maps"
	"reflect"
	"strings"
	"sync"

	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/releaseutil"
)

// silenceHelmSortLog silences the "skipping unknown hook" lines Helm's
// SortManifests prints through the standard logger.
var silenceHelmSortLog = sync.OnceFunc(func() { log.SetOutput(io.Discard) })

// helmOrder returns Helm's list for one of ours.
func helmOrder(order KindSortOrder) releaseutil.KindSortOrder {
	return releaseutil.KindSortOrder(order)
}

// helmSortManifests runs Helm's SortManifests the way Helm's install does:
// NOTES.txt files are taken out first.
func helmSortManifests(files map[string]string, order KindSortOrder) ([]*release.Hook, []releaseutil.Manifest, error) {
	silenceHelmSortLog()
	in := maps.Clone(files)
	for k := range in {
		if strings.HasSuffix(k, "NOTES.txt") {
			delete(in, k)
		}
	}
	return releaseutil.SortManifests(in, nil, helmOrder(order))
}

// diffSortResults compares our SortManifests results with Helm's and
// describes the first difference, or returns "".
func diffSortResults(hooks []*Hook, manifests []Manifest, err error,
	hHooks []*release.Hook, hManifests []releaseutil.Manifest, hErr error) string {
	switch {
	case (err == nil) != (hErr == nil):
		return fmt.Sprintf("error: got %v, Helm %v", err, hErr)
	case err != nil && err.Error() != hErr.Error():
		return fmt.Sprintf("error text:\n got  %s\n helm %s", err, hErr)
	}
	if len(hooks) != len(hHooks) {
		return fmt.Sprintf("got %d hooks, Helm %d", len(hooks), len(hHooks))
	}
	for i, h := range hooks {
		if d := diffHook(h, hHooks[i]); d != "" {
			return fmt.Sprintf("hook %d (%s %s): %s", i, h.Path, h.Name, d)
		}
	}
	if len(manifests) != len(hManifests) {
		return fmt.Sprintf("got %d manifests, Helm %d", len(manifests), len(hManifests))
	}
	for i, m := range manifests {
		hm := hManifests[i]
		if m.Name != hm.Name || m.Content != hm.Content {
			return fmt.Sprintf("manifest %d: got %s %q, Helm %s %q", i, m.Name, m.Content, hm.Name, hm.Content)
		}
		if d := diffHead(m.Head, hm.Head); d != "" {
			return fmt.Sprintf("manifest %d (%s): %s", i, m.Name, d)
		}
	}
	return ""
}

// diffHook compares one hook with Helm's.
func diffHook(h *Hook, hh *release.Hook) string {
	events := make([]string, len(hh.Events))
	for i, e := range hh.Events {
		events[i] = string(e)
	}
	dps := make([]string, len(hh.DeletePolicies))
	for i, p := range hh.DeletePolicies {
		dps[i] = string(p)
	}
	ols := make([]string, len(hh.OutputLogPolicies))
	for i, p := range hh.OutputLogPolicies {
		ols[i] = string(p)
	}
	got := fmt.Sprintf("%q %q %q %q %q %d %q %q", h.Name, h.Kind, h.Path, h.Manifest, h.Events, h.Weight, h.DeletePolicies, h.OutputLogPolicies)
	want := fmt.Sprintf("%q %q %q %q %q %d %q %q", hh.Name, hh.Kind, hh.Path, hh.Manifest, events, hh.Weight, dps, ols)
	if got != want {
		return fmt.Sprintf("\n got  %s\n helm %s", got, want)
	}
	return ""
}

// diffHead compares one head with Helm's, nil maps and pointers included.
func diffHead(h *SimpleHead, hh *releaseutil.SimpleHead) string {
	if h == nil || hh == nil {
		if h == nil && hh == nil {
			return ""
		}
		return fmt.Sprintf("head: got %v, Helm %v", h, hh)
	}
	if h.Version != hh.Version || h.Kind != hh.Kind {
		return fmt.Sprintf("head: got %q %q, Helm %q %q", h.Version, h.Kind, hh.Version, hh.Kind)
	}
	if (h.Metadata == nil) != (hh.Metadata == nil) {
		return fmt.Sprintf("metadata: got %+v, Helm %+v", h.Metadata, hh.Metadata)
	}
	if h.Metadata == nil {
		return ""
	}
	if h.Metadata.Name != hh.Metadata.Name ||
		(h.Metadata.Annotations == nil) != (hh.Metadata.Annotations == nil) ||
		!reflect.DeepEqual(h.Metadata.Annotations, hh.Metadata.Annotations) {
		return fmt.Sprintf("metadata: got %+v, Helm %+v", *h.Metadata, *hh.Metadata)
	}
	return ""
}
