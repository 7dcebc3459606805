package node

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// minPreStopGrace is the shortest time a container gets to stop after
// SIGTERM, as the kubelet's two seconds: with a grace period of 0 or 1,
// or after a preStop hook used the grace period up.
const minPreStopGrace = 2 * time.Second

// hook is a container's lifecycle handler for one event.
func hook(c *corev1.Container, postStart bool) *corev1.LifecycleHandler {
	if c.Lifecycle == nil {
		return nil
	}
	if postStart {
		return c.Lifecycle.PostStart
	}
	return c.Lifecycle.PreStop
}

// runHook runs a lifecycle handler of container c as the kubelet does: a
// command in the container (exec), an HTTP GET to the Pod (httpGet), or a
// pause (sleep). The error says what failed, in the kubelet's words.
func (w *podWorker) runHook(ctx context.Context, c *ctr, h *corev1.LifecycleHandler) error {
	switch {
	case h.Exec != nil:
		var out bytes.Buffer
		code, err := w.r.Runtime.Exec(ctx, c.id, h.Exec.Command, &out, &out)
		if err != nil {
			return fmt.Errorf("Exec lifecycle hook (%v) for Container %q in Pod %q failed - error: %v", h.Exec.Command, c.spec.Name, w.podRef(), err)
		}
		if code != 0 {
			return fmt.Errorf("Exec lifecycle hook (%v) for Container %q in Pod %q failed - error: command '%s' exited with %d: %s",
				h.Exec.Command, c.spec.Name, w.podRef(), strings.Join(h.Exec.Command, " "), code, strings.TrimSpace(out.String()))
		}
		return nil
	case h.HTTPGet != nil:
		if err := w.hookGet(ctx, c, h.HTTPGet); err != nil {
			return fmt.Errorf("HTTP lifecycle hook (%s) for Container %q in Pod %q failed - error: %v", h.HTTPGet.Path, c.spec.Name, w.podRef(), err)
		}
		return nil
	case h.Sleep != nil:
		sleep(ctx, time.Duration(h.Sleep.Seconds)*time.Second)
		return nil
	case h.TCPSocket != nil:
		// Deprecated and, as in the kubelet, not run.
		return nil
	}
	return fmt.Errorf("lifecycle hook of Container %q in Pod %q has no handler", c.spec.Name, w.podRef())
}

// podRef names the Pod as the kubelet's messages do: name_namespace(uid).
func (w *podWorker) podRef() string {
	return fmt.Sprintf("%s_%s(%s)", w.pod.Name, w.pod.Namespace, w.pod.UID)
}

// hookGet sends a hook's HTTP GET to the Pod; a status of 400 or more
// fails it.
func (w *podWorker) hookGet(ctx context.Context, c *ctr, g *corev1.HTTPGetAction) error {
	w.mu.Lock()
	ip := w.podIP
	w.mu.Unlock()
	host := g.Host
	if host == "" {
		host = orLoopback(ip)
	}
	port, err := resolvePort(g.Port, &c.spec)
	if err != nil {
		return err
	}
	scheme := "http"
	if g.Scheme == corev1.URISchemeHTTPS {
		scheme = "https"
	}
	path := g.Path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	url := fmt.Sprintf("%s://%s%s", scheme, net.JoinHostPort(host, strconv.Itoa(port)), path)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	for _, hd := range g.HTTPHeaders {
		req.Header.Add(hd.Name, hd.Value)
	}
	resp, err := w.httpClient().Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		return fmt.Errorf("HTTP lifecycle hook %s returned status %d", url, resp.StatusCode)
	}
	return nil
}

// postStart runs the container's postStart hook right after it started;
// when the hook fails the container is killed (its restart policy then
// applies), with a FailedPostStartHook Event, as the kubelet does.
func (w *podWorker) postStart(ctx context.Context, c *ctr) {
	h := hook(&c.spec, true)
	if h == nil {
		return
	}
	err := w.runHook(ctx, c, h)
	if err == nil {
		return
	}
	w.event(ctx, corev1.EventTypeWarning, "FailedPostStartHook", err.Error())
	w.event(ctx, corev1.EventTypeNormal, "Killing", fmt.Sprintf("FailedPostStartHook: Stopping container %s", c.spec.Name))
	w.mu.Lock()
	c.hookFailed = "FailedPostStartHook: " + err.Error()
	w.mu.Unlock()
	_ = w.r.Runtime.Signal(ctx, c.id, syscall.SIGKILL)
}

// preStop runs the container's preStop hook before it is signalled,
// bounded by the grace period's deadline; a failure is reported
// (FailedPreStopHook) and termination goes on.
func (w *podWorker) preStop(ctx context.Context, c *ctr, deadline time.Time) {
	h := hook(&c.spec, false)
	if h == nil {
		return
	}
	hctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	if err := w.runHook(hctx, c, h); err != nil {
		if hctx.Err() != nil {
			err = fmt.Errorf("PreStopHook for Container %q in Pod %q did not finish within the grace period: %w", c.spec.Name, w.podRef(), err)
		}
		w.event(ctx, corev1.EventTypeWarning, "FailedPreStopHook", err.Error())
	}
}
