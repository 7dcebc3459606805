package apiserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"sigs.k8s.io/yaml"
)

// errTooLarge is the 413 answer to an oversized body.
func errTooLarge(limit int64) error {
	return apierrors.NewRequestEntityTooLargeError(fmt.Sprintf("limit is %d", limit))
}

// errUnsupportedMedia is the 415 answer to a body type the server does not
// read.
func errUnsupportedMedia(ct string) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status:  metav1.StatusFailure,
		Code:    http.StatusUnsupportedMediaType,
		Reason:  metav1.StatusReasonUnsupportedMediaType,
		Message: fmt.Sprintf("the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got %q)", ct),
	}}
}

// readBody reads the request body up to the server's limit.
func (s *Server) readBody(r *http.Request) ([]byte, error) {
	limit := s.cfg.MaxBodyBytes
	data, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("reading request body: %v", err))
	}
	if int64(len(data)) > limit {
		return nil, errTooLarge(limit)
	}
	return data, nil
}

// contentTypeProtobuf is the Kubernetes protobuf envelope, which client-go
// sends for built-in types by default.
const contentTypeProtobuf = "application/vnd.kubernetes.protobuf"

// readJSON reads the request body and returns it as JSON, converting YAML
// and, for the built-in types client-go knows, protobuf.
func (s *Server) readJSON(r *http.Request) ([]byte, error) {
	data, err := s.readBody(r)
	if err != nil || len(data) == 0 {
		return data, err
	}
	ct := r.Header.Get("Content-Type")
	mt := "application/json"
	if ct != "" {
		if mt, _, err = mime.ParseMediaType(ct); err != nil {
			return nil, errUnsupportedMedia(ct)
		}
	}
	switch mt {
	case "application/json":
		return data, nil
	case "application/yaml":
		if data, err = yaml.YAMLToJSON(data); err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("decoding YAML body: %v", err))
		}
		return data, nil
	case contentTypeProtobuf:
		obj, gvk, err := protobuf.NewSerializer(s.scheme, s.scheme).Decode(data, nil, nil)
		if err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("decoding protobuf body: %v", err))
		}
		if gvk != nil {
			obj.GetObjectKind().SetGroupVersionKind(*gvk)
		}
		return json.Marshal(obj)
	default:
		return nil, errUnsupportedMedia(ct)
	}
}

// readObject reads an object from the request body and checks that its
// apiVersion and kind, when given, are the resource's; missing ones are
// filled in. The object is passed through its Go type (typedRoundTrip)
// and the warnings that gives are sent on w. It is returned in its stored
// form (conversion.go).
func (s *Server) readObject(w http.ResponseWriter, r *http.Request, res *Resource) (object, error) {
	data, err := s.readJSON(r)
	if err != nil {
		return nil, err
	}
	o, err := decodeBody(res, data)
	if err != nil {
		return nil, err
	}
	o, warnings, err := typedRoundTrip(s.scheme, res, o, r.URL.Query().Get("fieldValidation"))
	addWarnings(w, warnings)
	if err != nil {
		return nil, err
	}
	return res.storedForm(o)
}

// decodeBody parses a JSON body as an object of res.
func decodeBody(res *Resource, data []byte) (object, error) {
	o, err := decodeObject(data)
	if err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the body of the request could not be decoded as a %s: %v", res.Kind, err))
	}
	if err := checkKind(res, o); err != nil {
		return nil, err
	}
	if _, ok := o["metadata"].(map[string]any); !ok && o["metadata"] != nil {
		return nil, apierrors.NewBadRequest("metadata must be an object")
	}
	return o, nil
}

// checkKind refuses an object whose apiVersion or kind is not res's and
// fills in missing ones.
func checkKind(res *Resource, o object) error {
	av, _ := o["apiVersion"].(string)
	kind, _ := o["kind"].(string)
	if av != "" && av != res.APIVersion() {
		return apierrors.NewBadRequest(fmt.Sprintf("the API version in the data (%s) does not match the expected API version (%s)", av, res.APIVersion()))
	}
	if kind != "" && kind != res.Kind {
		return apierrors.NewBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: the kind in the data (%s) does not match the expected kind (%s)", kind, res.Version, res.Kind, kind, res.Kind))
	}
	o["apiVersion"], o["kind"] = res.APIVersion(), res.Kind
	return nil
}

// parseDryRun reads the dryRun query parameter: absent, or "All" to
// validate and answer a write without storing it.
func parseDryRun(r *http.Request) (bool, error) {
	values := r.URL.Query()["dryRun"]
	for _, v := range values {
		if v != "All" {
			return false, apierrors.NewBadRequest(fmt.Sprintf("unsupported dryRun value %q: only All is supported", v))
		}
	}
	return len(values) > 0, nil
}

// isStatus reports whether err carries the Status reason.
func isReason(err error, reason metav1.StatusReason) bool {
	var api apierrors.APIStatus
	return errors.As(err, &api) && api.Status().Reason == reason
}
