package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apimachinery/pkg/version"
)

// The group and plural of CustomResourceDefinitions.
const (
	crdGroup    = "apiextensions.k8s.io"
	crdResource = "customresourcedefinitions"
)

// crdRegistry holds the resources served for the stored
// CustomResourceDefinitions. Its list and index are replaced whole, never
// changed, so a snapshot may be used without the lock.
type crdRegistry struct {
	mu   sync.RWMutex
	list []Resource
	byGV map[string]map[string]*Resource
	// schemas keeps the custom resources' schemas by fingerprint.
	schemas schemaCache
}

// snapshot returns the current resources and their index by
// "GROUP/VERSION" then plural.
func (c *crdRegistry) snapshot() ([]Resource, map[string]map[string]*Resource) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.list, c.byGV
}

// set replaces the served custom resources.
func (c *crdRegistry) set(list []Resource) {
	byGV := map[string]map[string]*Resource{}
	for i := range list {
		r := &list[i]
		gv := r.APIVersion()
		if byGV[gv] == nil {
			byGV[gv] = map[string]*Resource{}
		}
		byGV[gv][r.Resource] = r
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.list, c.byGV = list, byGV
}

// allResources returns the built-in resources followed by those of the
// CustomResourceDefinitions.
func (s *Server) allResources() []Resource {
	crs, _ := s.crds.snapshot()
	if len(crs) == 0 {
		return s.resources
	}
	return append(slices.Clip(s.resources), crs...)
}

// resourcesIn returns the resources of group version gv ("v1",
// "apps/v1"), built-in and custom, by plural.
func (s *Server) resourcesIn(gv string) (map[string]*Resource, bool) {
	static, ok := s.byGV[gv]
	_, dyn := s.crds.snapshot()
	custom, cok := dyn[gv]
	switch {
	case !cok:
		return static, ok
	case !ok:
		return custom, true
	}
	merged := make(map[string]*Resource, len(static)+len(custom))
	for k, v := range custom {
		merged[k] = v
	}
	for k, v := range static {
		merged[k] = v
	}
	return merged, true
}

// loadCRDs reads the stored CustomResourceDefinitions and serves their
// resources in place of the ones served so far.
func (s *Server) loadCRDs(ctx context.Context) error {
	crd := s.byGV[crdGroup+"/v1"][crdResource]
	if crd == nil {
		return nil
	}
	page, err := s.list(ctx, crd, "", nil, 0, "")
	if err != nil {
		return fmt.Errorf("loading custom resource definitions: %w", err)
	}
	items := page.items
	sort.Slice(items, func(i, j int) bool { return str(items[i], "metadata", "name") < str(items[j], "metadata", "name") })
	var list []Resource
	for _, o := range items {
		list = append(list, crdResources(o, &s.crds.schemas)...)
	}
	s.crds.set(list)
	return nil
}

// afterWrite follows a stored write of an object of res: a change to a
// CustomResourceDefinition changes the served resources, and deleting one
// deletes its custom resources first. Failures are logged, the write
// having happened.
func (s *Server) afterWrite(ctx context.Context, res *Resource, o object, deleted bool) {
	if res.Group != crdGroup || res.Resource != crdResource {
		return
	}
	if deleted {
		if crs := crdResources(o, nil); len(crs) > 0 {
			if err := s.deleteAll(ctx, &crs[0]); err != nil {
				s.log.Error("deleting custom resources", "crd", str(o, "metadata", "name"), "err", err)
			}
		}
	}
	if err := s.loadCRDs(ctx); err != nil {
		s.log.Error("reloading custom resource definitions", "err", err)
	}
}

// deleteAll deletes every object of res in every namespace.
func (s *Server) deleteAll(ctx context.Context, res *Resource) error {
	page, err := s.list(ctx, res, "", nil, 0, "")
	if err != nil {
		return err
	}
	for _, o := range page.items {
		if _, err := s.delete(ctx, res, str(o, "metadata", "namespace"), str(o, "metadata", "name"), nil, false); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}

// crdResources returns one resource per served version of the
// CustomResourceDefinition o, with the version's schema from schemas
// (none when schemas is nil).
func crdResources(o object, schemas *schemaCache) []Resource {
	spec := mapOf(o, "spec")
	names := mapOf(spec, "names")
	var out []Resource
	for _, v := range slice(spec, "versions") {
		if served, _ := get(v, "served").(bool); !served {
			continue
		}
		r := Resource{
			Group:      str(spec, "group"),
			Version:    str(v, "name"),
			Kind:       str(names, "kind"),
			Resource:   str(names, "plural"),
			Singular:   str(names, "singular"),
			Namespaced: str(spec, "scope") == "Namespaced",
			ShortNames: stringList(slice(names, "shortNames")),
			Categories: stringList(slice(names, "categories")),
			Status:     mapOf(v, "subresources", "status") != nil,
			Printer:    crdPrinter(slice(v, "additionalPrinterColumns")),
		}
		if schemas != nil {
			r.custom = schemas.get(mapOf(v, "schema", "openAPIV3Schema"))
		}
		if sc := mapOf(v, "subresources", "scale"); sc != nil &&
			str(sc, "specReplicasPath") == ".spec.replicas" && str(sc, "statusReplicasPath") == ".status.replicas" {
			r.Scale = true
		}
		if r.Group == "" || r.Version == "" || r.Kind == "" || r.Resource == "" {
			continue
		}
		out = append(out, r)
	}
	for i := range out {
		out[i].otherVersions = len(out) > 1
	}
	// Versions in Kubernetes' priority order (v1, v1beta1, v1alpha1):
	// discovery lists them so, the first preferred.
	sort.SliceStable(out, func(i, j int) bool {
		return version.CompareKubeAwareVersionStrings(out[i].Version, out[j].Version) > 0
	})
	return out
}

// stringList returns the strings of a JSON list.
func stringList(l []any) []string {
	var out []string
	for _, v := range l {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// prepareCRD validates a CustomResourceDefinition, fills in the names
// Kubernetes defaults and sets its status as the apiextensions
// controllers would once they accept it: names accepted, established.
func prepareCRD(o object) error {
	m := meta(o)
	spec := mapOf(o, "spec")
	names := mapOf(spec, "names")
	group, plural, kind := str(spec, "group"), str(names, "plural"), str(names, "kind")
	var errs field.ErrorList
	sp := field.NewPath("spec")
	if group == "" {
		errs = append(errs, field.Required(sp.Child("group"), ""))
	}
	if plural == "" {
		errs = append(errs, field.Required(sp.Child("names", "plural"), ""))
	}
	if kind == "" {
		errs = append(errs, field.Required(sp.Child("names", "kind"), ""))
	}
	if name := str(m, "name"); group != "" && plural != "" && name != plural+"."+group {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), name, `must be spec.names.plural+"."+spec.group`))
	}
	switch scope := str(spec, "scope"); scope {
	case "Namespaced", "Cluster":
	default:
		errs = append(errs, field.NotSupported(sp.Child("scope"), scope, []string{"Cluster", "Namespaced"}))
	}
	var storage []string
	versions := slice(spec, "versions")
	if len(versions) == 0 {
		errs = append(errs, field.Invalid(sp.Child("versions"), versions, "must have exactly one version marked as storage version"))
	}
	for _, v := range versions {
		if b, _ := get(v, "storage").(bool); b {
			storage = append(storage, str(v, "name"))
		}
	}
	if len(versions) > 0 && len(storage) != 1 {
		errs = append(errs, field.Invalid(sp.Child("versions"), versions, "must have exactly one version marked as storage version"))
	}
	if len(errs) > 0 {
		return apierrors.NewInvalid(schema.GroupKind{Group: crdGroup, Kind: "CustomResourceDefinition"}, str(m, "name"), errs)
	}
	if str(names, "singular") == "" {
		names["singular"] = strings.ToLower(kind)
	}
	if str(names, "listKind") == "" {
		names["listKind"] = kind + "List"
	}
	accepted := map[string]any{}
	for k, v := range names {
		accepted[k] = v
	}
	stored := stringList(slice(o, "status", "storedVersions"))
	if !slices.Contains(stored, storage[0]) {
		stored = append(stored, storage[0])
	}
	since := str(m, "creationTimestamp")
	o["status"] = map[string]any{
		"acceptedNames": accepted,
		"conditions": []any{
			map[string]any{"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": since},
			map[string]any{"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted", "lastTransitionTime": since},
		},
		"storedVersions": stringsToAny(stored),
	}
	return nil
}

// stringsToAny converts a string list to a JSON list.
func stringsToAny(l []string) []any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}

// crdPrinter builds the Table of a custom resource from the version's
// additionalPrinterColumns: NAME, then those columns, or AGE when there are
// none, as kube-apiserver does.
func crdPrinter(cols []any) *Printer {
	p := &Printer{Full: true, Columns: []Column{nameColumn()}}
	if len(cols) == 0 {
		cols = []any{map[string]any{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp",
			"description": "CreationTimestamp is a timestamp representing the server time when this object was created."}}
	}
	for _, c := range cols {
		path, typ := str(c, "jsonPath"), str(c, "type")
		desc := str(c, "description")
		if desc == "" {
			desc = "Custom resource definition column (in JSONPath format): " + path
		}
		p.Columns = append(p.Columns, Column{
			Name: str(c, "name"), Type: typ, Description: desc, Wide: num(c, "priority") > 0,
			Cell: func(o map[string]any, now time.Time) any { return columnCell(typ, lookupPath(o, path), now) },
		})
	}
	return p
}

// lookupPath evaluates the simple JSONPaths CRD columns use:
// ".a.b[0].c"; nil when any step is missing.
func lookupPath(v any, path string) any {
	path = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(path, "{"), "$"), "}")
	for _, step := range strings.Split(strings.TrimPrefix(path, "."), ".") {
		if step == "" {
			continue
		}
		name, rest, _ := strings.Cut(step, "[")
		if name != "" {
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[name]
		}
		for rest != "" {
			idx, after, ok := strings.Cut(rest, "]")
			if !ok {
				return nil
			}
			idx = strings.Trim(idx, `'"`)
			switch c := v.(type) {
			case []any:
				i, err := strconv.Atoi(idx)
				if err != nil || i < 0 || i >= len(c) {
					return nil
				}
				v = c[i]
			case map[string]any:
				v = c[idx]
			default:
				return nil
			}
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return v
}

// columnCell converts a value to a cell of a column of type typ, nil when
// it does not fit, as kube-apiserver's CRD table convertor does.
func columnCell(typ string, v any, now time.Time) any {
	if v == nil {
		return nil
	}
	switch typ {
	case "string":
		switch x := v.(type) {
		case string:
			return x
		case map[string]any, []any:
			b, _ := json.Marshal(x)
			return string(b)
		default:
			return fmt.Sprint(x)
		}
	case "integer":
		switch x := v.(type) {
		case json.Number:
			if i, err := x.Int64(); err == nil {
				return i
			}
		case float64:
			return int64(x)
		case int64:
			return x
		}
	case "number":
		switch x := v.(type) {
		case json.Number:
			if f, err := x.Float64(); err == nil {
				return f
			}
		case float64:
			return x
		case int64:
			return float64(x)
		}
	case "boolean":
		if b, ok := v.(bool); ok {
			return b
		}
	case "date":
		if s, ok := v.(string); ok {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return "<invalid>"
			}
			return duration.HumanDuration(now.Sub(t))
		}
	}
	return nil
}
