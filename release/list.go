package release

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"

	"k8s.io/apimachinery/pkg/labels"
)

// States is a set of statuses `list` shows.
type States uint

// The status sets of `helm list`'s flags.
const (
	ListDeployed States = 1 << iota
	ListUninstalled
	ListUninstalling
	ListPendingInstall
	ListPendingUpgrade
	ListPendingRollback
	ListSuperseded
	ListFailed
	ListUnknown
	ListPending = ListPendingInstall | ListPendingUpgrade | ListPendingRollback
	ListAll     = ListDeployed | ListUninstalled | ListUninstalling | ListPending | ListSuperseded | ListFailed | ListUnknown
)

func stateOf(s Status) States {
	switch s {
	case StatusDeployed:
		return ListDeployed
	case StatusUninstalled:
		return ListUninstalled
	case StatusUninstalling:
		return ListUninstalling
	case StatusPendingInstall:
		return ListPendingInstall
	case StatusPendingUpgrade:
		return ListPendingUpgrade
	case StatusPendingRollback:
		return ListPendingRollback
	case StatusSuperseded:
		return ListSuperseded
	case StatusFailed:
		return ListFailed
	}
	return ListUnknown
}

// ListOptions select and order the releases List returns, as `helm list`'s
// flags do.
type ListOptions struct {
	// States to show; 0 means deployed and failed.
	States States
	// Filter is a regular expression the name must match.
	Filter string
	// Selector is a label selector over the release's labels (its own and
	// name, owner, status, version).
	Selector string
	// ByDate sorts by last deployment, oldest first (newest first with
	// Reverse); else by name (Reverse: descending).
	ByDate  bool
	Reverse bool
	// Limit and Offset page the result; Limit 0 means all.
	Limit  int
	Offset int
}

// List returns the newest revision of each release the options select.
func (s *Storage) List(ctx context.Context, o ListOptions) ([]*Release, error) {
	var filter *regexp.Regexp
	if o.Filter != "" {
		var err error
		if filter, err = regexp.Compile(o.Filter); err != nil {
			return nil, fmt.Errorf("--filter: %w", err)
		}
	}
	sel, err := labels.Parse(o.Selector)
	if err != nil {
		return nil, fmt.Errorf("--selector: %w", err)
	}
	rels, err := s.Driver.List(ctx, func(r *Release) bool { return filter == nil || filter.MatchString(r.Name) })
	if err != nil {
		return nil, err
	}
	states := o.States
	if states == 0 {
		states = ListDeployed | ListFailed
	}
	if states != ListSuperseded {
		rels = latest(rels)
	}
	out := make([]*Release, 0, len(rels))
	for _, r := range rels {
		if r.Info == nil || stateOf(r.Info.Status)&states == 0 {
			continue
		}
		if !sel.Matches(selectorLabels(r)) {
			continue
		}
		out = append(out, r)
	}
	sortReleases(out, o.ByDate, o.Reverse)
	if o.Offset >= len(out) {
		return []*Release{}, nil
	}
	end := len(out)
	if o.Limit > 0 && o.Offset+o.Limit < end {
		end = o.Offset + o.Limit
	}
	return out[o.Offset:end], nil
}

func selectorLabels(r *Release) labels.Set {
	set := labels.Set{}
	for k, v := range r.Labels {
		set[k] = v
	}
	set["name"] = r.Name
	set["owner"] = "helm"
	set["status"] = r.Info.Status.String()
	set["version"] = strconv.Itoa(r.Version)
	return set
}

// latest keeps the newest revision of each namespace/name.
func latest(rels []*Release) []*Release {
	type key struct{ ns, name string }
	newest := map[key]*Release{}
	for _, r := range rels {
		k := key{r.Namespace, r.Name}
		if cur, ok := newest[k]; ok && cur.Version > r.Version {
			continue
		}
		newest[k] = r
	}
	out := make([]*Release, 0, len(newest))
	for _, r := range newest {
		out = append(out, r)
	}
	return out
}

func sortReleases(rels []*Release, byDate, reverse bool) {
	byName := func(i, j int) bool {
		if rels[i].Name != rels[j].Name {
			return rels[i].Name < rels[j].Name
		}
		return rels[i].Namespace < rels[j].Namespace
	}
	sort.SliceStable(rels, byName)
	if byDate {
		sort.SliceStable(rels, func(i, j int) bool {
			return rels[i].Info.LastDeployed.Unix() < rels[j].Info.LastDeployed.Unix()
		})
	}
	if reverse {
		for i, j := 0, len(rels)-1; i < j; i, j = i+1, j-1 {
			rels[i], rels[j] = rels[j], rels[i]
		}
	}
}
