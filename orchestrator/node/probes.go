package node

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// probe runs a container's startup, liveness and readiness probes while
// ctx lives: readiness sets the container's Ready, a failed liveness (or
// startup) probe kills it so that its restart policy applies.
func (w *podWorker) probe(ctx context.Context, c *ctr) {
	if c.spec.StartupProbe != nil {
		if !w.probeUntil(ctx, c, c.spec.StartupProbe, "Startup") {
			return
		}
	}
	w.mu.Lock()
	if c.spec.ReadinessProbe == nil && c.state.Running != nil {
		c.ready = true
	}
	w.mu.Unlock()
	w.markDirty()
	if c.spec.LivenessProbe != nil {
		go w.probeLoop(ctx, c, c.spec.LivenessProbe, "Liveness")
	}
	if c.spec.ReadinessProbe != nil {
		go w.probeLoop(ctx, c, c.spec.ReadinessProbe, "Readiness")
	}
}

func period(p *corev1.Probe) time.Duration {
	if p.PeriodSeconds > 0 {
		return time.Duration(p.PeriodSeconds) * time.Second
	}
	return 10 * time.Second
}

func thresholds(p *corev1.Probe) (int, int) {
	s, f := int(p.SuccessThreshold), int(p.FailureThreshold)
	if s <= 0 {
		s = 1
	}
	if f <= 0 {
		f = 3
	}
	return s, f
}

// probeUntil runs a startup probe until it succeeds (true) or fails
// failureThreshold times, killing the container (false).
func (w *podWorker) probeUntil(ctx context.Context, c *ctr, p *corev1.Probe, kind string) bool {
	_, failures := thresholds(p)
	if !sleep(ctx, time.Duration(p.InitialDelaySeconds)*time.Second) {
		return false
	}
	failed := 0
	for {
		if err := w.check(ctx, c, p); err == nil {
			return true
		} else {
			failed++
			w.event(ctx, corev1.EventTypeWarning, "Unhealthy", fmt.Sprintf("%s probe failed: %v", kind, err))
		}
		if failed >= failures {
			w.killFor(ctx, c, kind)
			return false
		}
		if !sleep(ctx, period(p)) {
			return false
		}
	}
}

// probeLoop runs a liveness or readiness probe every period.
func (w *podWorker) probeLoop(ctx context.Context, c *ctr, p *corev1.Probe, kind string) {
	successes, failures := thresholds(p)
	if !sleep(ctx, time.Duration(p.InitialDelaySeconds)*time.Second) {
		return
	}
	ok, bad := 0, 0
	for {
		err := w.check(ctx, c, p)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			ok, bad = ok+1, 0
		} else {
			ok, bad = 0, bad+1
			w.event(ctx, corev1.EventTypeWarning, "Unhealthy", fmt.Sprintf("%s probe failed: %v", kind, err))
		}
		switch kind {
		case "Readiness":
			w.mu.Lock()
			changed := false
			if ok >= successes && !c.ready && c.state.Running != nil {
				c.ready, changed = true, true
			}
			if bad >= failures && c.ready {
				c.ready, changed = false, true
			}
			w.mu.Unlock()
			if changed {
				w.markDirty()
			}
		case "Liveness":
			if bad >= failures {
				w.killFor(ctx, c, kind)
				return
			}
		}
		if !sleep(ctx, period(p)) {
			return
		}
	}
}

// killFor kills a container that failed its probe; its supervisor then
// restarts it.
func (w *podWorker) killFor(ctx context.Context, c *ctr, kind string) {
	w.event(ctx, corev1.EventTypeNormal, "Killing", fmt.Sprintf("Container %s failed %s probe, will be restarted", c.spec.Name, map[string]string{"Liveness": "liveness", "Startup": "startup"}[kind]))
	_ = w.r.Runtime.Signal(ctx, c.id, syscall.SIGKILL)
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// check runs one probe: exec in the container, an HTTP GET or a TCP
// connection to the Pod's address.
func (w *podWorker) check(ctx context.Context, c *ctr, p *corev1.Probe) error {
	timeout := time.Second
	if p.TimeoutSeconds > 0 {
		timeout = time.Duration(p.TimeoutSeconds) * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	w.mu.Lock()
	ip := w.podIP
	w.mu.Unlock()
	switch {
	case p.Exec != nil:
		code, err := w.r.Runtime.Exec(ctx, c.id, p.Exec.Command, nil, nil)
		if err != nil {
			return err
		}
		if code != 0 {
			return fmt.Errorf("command %q exited with %d", p.Exec.Command, code)
		}
		return nil
	case p.HTTPGet != nil:
		g := p.HTTPGet
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
		url := fmt.Sprintf("%s://%s%s", scheme, net.JoinHostPort(host, strconv.Itoa(port)), g.Path)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		for _, h := range g.HTTPHeaders {
			req.Header.Add(h.Name, h.Value)
		}
		req.Header.Set("User-Agent", "kube-probe/1.37")
		resp, err := w.httpClient().Do(req)
		if err != nil {
			return fmt.Errorf("Get %q: %v", url, err)
		}
		resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode >= 400 {
			return fmt.Errorf("HTTP probe failed with statuscode: %d", resp.StatusCode)
		}
		return nil
	case p.TCPSocket != nil:
		port, err := resolvePort(p.TCPSocket.Port, &c.spec)
		if err != nil {
			return err
		}
		host := p.TCPSocket.Host
		if host == "" {
			host = orLoopback(ip)
		}
		conn, err := w.dial(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return err
		}
		return conn.Close()
	case p.GRPC != nil:
		service := ""
		if p.GRPC.Service != nil {
			service = *p.GRPC.Service
		}
		return grpcCheck(ctx, w.dial, net.JoinHostPort(orLoopback(ip), strconv.Itoa(int(p.GRPC.Port))), service, timeout)
	}
	return fmt.Errorf("probe has no handler")
}

// resolvePort turns a probe's port (a number or a container port name)
// into a number.
func resolvePort(p intstr.IntOrString, c *corev1.Container) (int, error) {
	if p.Type == intstr.Int {
		return p.IntValue(), nil
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return int(cp.ContainerPort), nil
		}
	}
	return 0, fmt.Errorf("port %q is not a port of container %s", p.StrVal, c.Name)
}

// dial connects to a Pod: from inside the cluster network when the Pod
// is on it.
func (w *podWorker) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if !w.hostNetwork() {
		return w.r.Network.DialContext(ctx, network, addr)
	}
	return (&net.Dialer{}).DialContext(ctx, network, addr)
}

// httpClient is the probes' HTTP client: no keep-alive (every probe is a
// new connection, as the kubelet's), dialing through dial. HTTPS probes
// do not verify the certificate, as the kubelet's do not: a Pod's
// certificate is rarely issued for its IP address.
func (w *podWorker) httpClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext:       w.dial,
		DisableKeepAlives: true,
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // as the kubelet
	}}
}
