package apiserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	sigsjson "sigs.k8s.io/json"
)

// Values of the fieldValidation query parameter.
const (
	fieldValidationStrict = "Strict"
	fieldValidationIgnore = "Ignore"
)

// typedRoundTrip passes o through the kind's Go type from the server's
// scheme (newScheme), as kube-apiserver does by decoding into its types: values of the
// wrong type are refused (400), unknown and duplicate fields are dropped
// and reported, or refused when validation is "Strict", defaults are set
// (setDefaults), and the stored form is the one Kubernetes stores. Kinds the scheme does not know are
// kept as they are.
func typedRoundTrip(sch *runtime.Scheme, res *Resource, o object, validation string) (object, []string, error) {
	if res.custom != nil {
		return customRoundTrip(res, o, validation)
	}
	typed, err := sch.New(res.GroupVersionKind())
	if err != nil {
		return o, nil, nil
	}
	data, err := json.Marshal(o)
	if err != nil {
		return nil, nil, err
	}
	strict, err := sigsjson.UnmarshalStrict(data, typed, sigsjson.DisallowDuplicateFields, sigsjson.DisallowUnknownFields)
	if err != nil {
		return nil, nil, apierrors.NewBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: %v", res.Kind, res.Version, res.Kind, err))
	}
	var warnings []string
	for _, e := range strict {
		warnings = append(warnings, e.Error())
	}
	if validation == fieldValidationStrict && len(warnings) > 0 {
		return nil, nil, errStrictDecoding(res, warnings)
	}
	if validation == fieldValidationIgnore {
		warnings = nil
	}
	setDefaults(typed)
	out, err := json.Marshal(typed)
	if err != nil {
		return nil, nil, err
	}
	clean, err := decodeObject(out)
	if err != nil {
		return nil, nil, err
	}
	return clean, warnings, nil
}

// errStrictDecoding is the 400 answer to unknown or duplicate fields
// under fieldValidation=Strict, worded as kube-apiserver words it.
func errStrictDecoding(res *Resource, problems []string) error {
	return apierrors.NewBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: strict decoding error: %s", res.Kind, res.Version, res.Kind, strings.Join(problems, ", ")))
}

// addWarnings sends warnings as HTTP Warning headers, which kubectl and
// client-go print.
func addWarnings(w http.ResponseWriter, warnings []string) {
	for _, msg := range warnings {
		w.Header().Add("Warning", "299 - "+strconv.Quote(msg))
	}
}
