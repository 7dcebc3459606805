package apiserver

import (
	"fmt"
	"net/url"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
)

// selector is the label and field selection of a list, watch or
// deletecollection.
type selector struct {
	res    *Resource
	labels labels.Selector
	fields fields.Selector
	name   string // the object named in a watch path, "" for all
}

// parseSelector reads labelSelector and fieldSelector from a query,
// refusing field labels the resource does not support as Kubernetes does.
func parseSelector(res *Resource, q url.Values) (*selector, error) {
	sel := &selector{res: res, labels: labels.Everything(), fields: fields.Everything()}
	if ls := q.Get("labelSelector"); ls != "" {
		l, err := labels.Parse(ls)
		if err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("unable to parse requirement: %v", err))
		}
		sel.labels = l
	}
	if fs := q.Get("fieldSelector"); fs != "" {
		f, err := fields.ParseSelector(fs)
		if err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid field selector: %v", err))
		}
		for _, req := range f.Requirements() {
			if !res.fieldLabelAllowed(req.Field) {
				return nil, apierrors.NewBadRequest(fmt.Sprintf("field label not supported: %s", req.Field))
			}
		}
		sel.fields = f
	}
	return sel, nil
}

// matches reports whether o is selected.
func (s *selector) matches(o object) bool {
	if s.name != "" && str(o, "metadata", "name") != s.name {
		return false
	}
	if !s.labels.Empty() && !s.labels.Matches(labels.Set(stringMap(o, "metadata", "labels"))) {
		return false
	}
	if s.fields.Empty() {
		return true
	}
	set := fields.Set{}
	for _, req := range s.fields.Requirements() {
		set[req.Field] = fieldValue(o, req.Field)
	}
	return s.fields.Matches(set)
}

// fieldValue returns the value of a dotted field path as a field
// selector compares it.
func fieldValue(o object, path string) string {
	v := get(o, strings.Split(path, ".")...)
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case map[string]any, []any:
		return ""
	default:
		return fmt.Sprint(x)
	}
}
