package apiserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// serveLog answers GET pods/NAME/log, as kubectl logs asks: the options
// are read from the query, the container defaults to the Pod's only one,
// and the log comes from Config.PodLogs, streamed (and flushed as it
// grows with follow=true).
func (s *Server) serveLog(w http.ResponseWriter, r *http.Request, req request) {
	if s.cfg.PodLogs == nil {
		s.fail(w, apierrors.NewNotFound(req.res.GroupResource(), req.name+"/log"))
		return
	}
	o, _, err := s.getObject(r.Context(), req.res, req.ns, req.name)
	if err != nil {
		s.fail(w, err)
		return
	}
	raw, err := json.Marshal(o)
	if err != nil {
		s.fail(w, err)
		return
	}
	var pod corev1.Pod
	if err := json.Unmarshal(raw, &pod); err != nil {
		s.fail(w, apierrors.NewInternalError(err))
		return
	}
	q := r.URL.Query()
	opts := corev1.PodLogOptions{
		Container:  q.Get("container"),
		Follow:     boolParam(r, "follow"),
		Previous:   boolParam(r, "previous"),
		Timestamps: boolParam(r, "timestamps"),
	}
	for name, dst := range map[string]**int64{"tailLines": &opts.TailLines, "sinceSeconds": &opts.SinceSeconds, "limitBytes": &opts.LimitBytes} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				s.fail(w, apierrors.NewBadRequest(fmt.Sprintf("invalid %s %q", name, v)))
				return
			}
			*dst = &n
		}
	}
	if v := q.Get("sinceTime"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			s.fail(w, apierrors.NewBadRequest(fmt.Sprintf("invalid sinceTime %q", v)))
			return
		}
		mt := metav1.NewTime(t)
		opts.SinceTime = &mt
	}
	if opts.Container == "" {
		if len(pod.Spec.Containers) != 1 {
			var names []string
			for _, c := range pod.Spec.Containers {
				names = append(names, c.Name)
			}
			s.fail(w, apierrors.NewBadRequest(fmt.Sprintf("a container name must be specified for pod %s, choose one of: [%s]", pod.Name, strings.Join(names, " "))))
			return
		}
		opts.Container = pod.Spec.Containers[0].Name
	}
	found := false
	for _, c := range append(append([]corev1.Container(nil), pod.Spec.InitContainers...), pod.Spec.Containers...) {
		found = found || c.Name == opts.Container
	}
	if !found {
		s.fail(w, apierrors.NewBadRequest(fmt.Sprintf("container %s is not valid for pod %s", opts.Container, pod.Name)))
		return
	}
	rc, err := s.cfg.PodLogs(r.Context(), &pod, opts)
	if err != nil {
		s.fail(w, err)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	buf := make([]byte, 32<<10)
	for {
		n, err := rc.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
		if err != nil {
			return
		}
	}
}
