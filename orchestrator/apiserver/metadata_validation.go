package apiserver

import (
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// maxAnnotationBytes is the limit Kubernetes puts on the summed size of an
// object's annotation keys and values: 256 KiB.
const maxAnnotationBytes = 256 << 10

// validMetadata returns an Invalid Status when the labels or annotations in
// the object metadata m break Kubernetes' rules: label keys and annotation
// keys must be qualified names, label values valid label values, and the
// annotations together no larger than 256 KiB.
func validMetadata(res *Resource, m map[string]any) error {
	var errs field.ErrorList
	lp := field.NewPath("metadata", "labels")
	switch labels := m["labels"].(type) {
	case nil:
	case map[string]any:
		for k, v := range labels {
			for _, msg := range validation.IsQualifiedName(k) {
				errs = append(errs, field.Invalid(lp, k, msg))
			}
			s, ok := v.(string)
			if !ok {
				errs = append(errs, field.Invalid(lp.Key(k), v, "must be a string"))
				continue
			}
			for _, msg := range validation.IsValidLabelValue(s) {
				errs = append(errs, field.Invalid(lp, s, msg))
			}
		}
	default:
		errs = append(errs, field.Invalid(lp, labels, "must be a map of strings"))
	}
	ap := field.NewPath("metadata", "annotations")
	switch annotations := m["annotations"].(type) {
	case nil:
	case map[string]any:
		total := 0
		for k, v := range annotations {
			for _, msg := range validation.IsQualifiedName(strings.ToLower(k)) {
				errs = append(errs, field.Invalid(ap, k, msg))
			}
			s, _ := v.(string)
			total += len(k) + len(s)
		}
		if total > maxAnnotationBytes {
			errs = append(errs, field.TooLong(ap, "", maxAnnotationBytes))
		}
	default:
		errs = append(errs, field.Invalid(ap, annotations, "must be a map of strings"))
	}
	if len(errs) == 0 {
		return nil
	}
	return apierrors.NewInvalid(res.GroupVersionKind().GroupKind(), str(m, "name"), errs)
}
