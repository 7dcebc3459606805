package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"pkg.dev/pkg/orchestrator/store"
)

// optimisticLockMessage is the cause Kubernetes gives in a 409 Conflict on a
// stale resourceVersion; clients and users compare it.
const optimisticLockMessage = "the object has been modified; please apply your changes to the latest version and try again"

// statusOf turns any error into the metav1.Status sent to the client.
// Errors that already carry a Status keep it; store sentinels map to their
// Kubernetes reasons; anything else is a 500.
func statusOf(err error) metav1.Status {
	var api apierrors.APIStatus
	if errors.As(err, &api) {
		st := api.Status()
		st.Kind, st.APIVersion = "Status", "v1"
		return st
	}
	var st *apierrors.StatusError
	switch {
	case errors.Is(err, store.ErrCompacted):
		st = apierrors.NewResourceExpired(err.Error())
	case errors.Is(err, store.ErrInvalid):
		st = apierrors.NewBadRequest(err.Error())
	case errors.Is(err, store.ErrClosed):
		st = apierrors.NewServiceUnavailable(err.Error())
	default:
		st = apierrors.NewInternalError(err)
	}
	out := st.Status()
	out.Kind, out.APIVersion = "Status", "v1"
	return out
}

// fail sends err as a Status with its code, logging server-side failures
// (5xx), which are the server's problem rather than the client's. A
// request its client gave up on (its context cancelled: the client
// disconnected, or timed out, or the server is stopping) is no failure of
// the server's and is logged only at debug level.
func (s *Server) fail(w http.ResponseWriter, err error) {
	if errors.Is(err, context.Canceled) {
		s.log.Debug("api request abandoned", "err", err)
	} else if st := statusOf(err); st.Code >= http.StatusInternalServerError {
		s.log.Error("api request failed", "code", st.Code, "reason", st.Reason, "err", err)
	}
	writeError(w, err)
}

// errPathNotFound is the 404 for a path the server does not serve, with
// kube-apiserver's message.
func errPathNotFound() error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status:  metav1.StatusFailure,
		Code:    http.StatusNotFound,
		Reason:  metav1.StatusReasonNotFound,
		Message: "the server could not find the requested resource",
		Details: &metav1.StatusDetails{},
	}}
}

// writeError sends err as a Status with its code.
func writeError(w http.ResponseWriter, err error) {
	st := statusOf(err)
	code := int(st.Code)
	if code == 0 {
		code = http.StatusInternalServerError
	}
	if st.Details != nil && st.Details.RetryAfterSeconds > 0 {
		// As kube-apiserver: the suggestion is a header too, which
		// client-go honours by retrying after that long.
		w.Header().Set("Retry-After", strconv.Itoa(int(st.Details.RetryAfterSeconds)))
	}
	writeJSON(w, code, st)
}

// writeJSON sends v as JSON with the given status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	writeBody(w, code, "application/json", v)
}

// writeBody sends v as JSON with the given content type and code.
func writeBody(w http.ResponseWriter, code int, contentType string, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		st := apierrors.NewInternalError(err).Status()
		st.Kind, st.APIVersion = "Status", "v1"
		data, _ = json.Marshal(st)
		contentType = "application/json"
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(code)
	_, _ = w.Write(append(data, '\n'))
}

// successStatus is the Status a delete answers with when it does not
// return the object.
func successStatus(r *Resource, name, uid string) metav1.Status {
	return metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusSuccess,
		Details: &metav1.StatusDetails{
			Name:  name,
			Group: r.Group,
			Kind:  r.Resource,
			UID:   types.UID(uid),
		},
	}
}
