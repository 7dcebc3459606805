package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/apimachinery/pkg/util/httpstream/spdy"
)

// The port-forward protocol (kubectl port-forward). The client upgrades
// the connection to SPDY, naming the protocol in X-Stream-Protocol-Version,
// then opens two streams per forwarded connection, both carrying the
// headers port and requestID: an "error" stream the server writes a
// message to when the connection to the Pod fails (and closes when the
// forwarding ends), and a "data" stream carrying the bytes both ways.
const (
	// portForwardProtocol is the protocol's only version,
	// portforward.k8s.io.
	portForwardProtocol = "portforward.k8s.io"
	// streamPairTimeout is how long the second stream of a request may
	// keep the server waiting, as the kubelet's stream creation timeout.
	streamPairTimeout = 30 * time.Second
	// streamIdleTimeout closes a port-forward connection no stream used
	// for that long, as the kubelet's default.
	streamIdleTimeout = 4 * time.Hour
)

// PodDialFunc connects to a port of a Pod from inside the Pod's network
// (its localhost), as the kubelet does for port-forward. pod is the Pod
// object as stored; the connection is closed when the forwarding ends.
type PodDialFunc func(ctx context.Context, pod *corev1.Pod, port int32) (net.Conn, error)

// servePortForward answers GET and POST pods/NAME/portforward: it checks
// the Pod, upgrades the connection (SPDY, or SPDY tunnelled in a
// websocket) and forwards each stream pair to Config.PodPortForward.
func (s *Server) servePortForward(w http.ResponseWriter, r *http.Request, req request) {
	if s.cfg.PodPortForward == nil {
		s.fail(w, apierrors.NewNotFound(req.res.GroupResource(), req.name+"/portforward"))
		return
	}
	pod, err := s.getPod(r.Context(), req)
	if err != nil {
		s.fail(w, err)
		return
	}
	if pod.Status.Phase != corev1.PodRunning {
		s.fail(w, apierrors.NewBadRequest(fmt.Sprintf("unable to forward port because pod %s is not running. Current status=%s", pod.Name, pod.Status.Phase)))
		return
	}
	allowed, err := portsParam(r)
	if err != nil {
		s.fail(w, err)
		return
	}
	if !httpstream.IsUpgradeRequest(r) {
		s.fail(w, apierrors.NewBadRequest("port-forward needs an upgraded connection: ask with Connection: Upgrade (SPDY/3.1, or a websocket)"))
		return
	}
	f := &forwarder{
		pod:     pod,
		allowed: allowed,
		dial:    s.cfg.PodPortForward,
		log:     s.log,
		streams: make(chan httpstream.Stream, 4),
		done:    make(chan struct{}),
	}
	var conn httpstream.Connection
	if isWebsocket(r) {
		conn = s.upgradeTunnel(w, r, portForwardProtocol, f.accept)
	} else {
		if _, err := httpstream.Handshake(r, w, []string{portForwardProtocol}); err != nil {
			// Handshake answered the client.
			return
		}
		conn = spdy.NewResponseUpgrader().UpgradeResponse(w, r, f.accept)
	}
	if conn == nil {
		// The upgrader answered the client with why it could not.
		return
	}
	defer conn.Close()
	conn.SetIdleTimeout(streamIdleTimeout)
	f.run(r.Context(), conn)
}

// getPod reads the Pod a subresource request names, NotFound if none.
func (s *Server) getPod(ctx context.Context, req request) (*corev1.Pod, error) {
	o, _, err := s.getObject(ctx, req.res, req.ns, req.name)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(o)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	var pod corev1.Pod
	if err := json.Unmarshal(raw, &pod); err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	return &pod, nil
}

// portsParam reads the optional ports query parameter (repeated or
// comma-separated): when given, only those ports may be forwarded.
func portsParam(r *http.Request) (map[int32]bool, error) {
	vals := r.URL.Query()["ports"]
	if len(vals) == 0 {
		return nil, nil
	}
	allowed := map[int32]bool{}
	for _, v := range vals {
		for _, p := range strings.Split(v, ",") {
			port, err := parsePort(strings.TrimSpace(p))
			if err != nil {
				return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid ports parameter %q: %v", v, err))
			}
			allowed[port] = true
		}
	}
	return allowed, nil
}

// parsePort reads a TCP port, 1 to 65535.
func parsePort(s string) (int32, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("port %q is not a number from 1 to 65535", s)
	}
	return int32(n), nil
}

// forwarder serves one upgraded port-forward connection to one Pod.
type forwarder struct {
	pod     *corev1.Pod
	allowed map[int32]bool
	dial    PodDialFunc
	log     *slog.Logger
	// streams receives the streams the client opens, checked; done is
	// closed when run stops taking them.
	streams chan httpstream.Stream
	done    chan struct{}
}

// accept is the connection's new-stream handler: it checks the headers
// (refusing the stream otherwise) and hands the stream to run.
func (f *forwarder) accept(stream httpstream.Stream, _ <-chan struct{}) error {
	h := stream.Headers()
	switch t := h.Get(corev1.StreamType); t {
	case corev1.StreamTypeData, corev1.StreamTypeError:
	default:
		return fmt.Errorf("invalid stream type %q: want %q or %q", t, corev1.StreamTypeData, corev1.StreamTypeError)
	}
	port, err := parsePort(h.Get(corev1.PortHeader))
	if err != nil {
		return fmt.Errorf("invalid %s header: %w", corev1.PortHeader, err)
	}
	if f.allowed != nil && !f.allowed[port] {
		return fmt.Errorf("port %d is not among the ports requested", port)
	}
	if h.Get(corev1.PortForwardRequestIDHeader) == "" {
		return fmt.Errorf("stream has no %s header", corev1.PortForwardRequestIDHeader)
	}
	select {
	case f.streams <- stream:
		return nil
	case <-f.done:
		return errors.New("the port-forward connection is closing")
	}
}

// streamPair is the two streams of one forwarded connection.
type streamPair struct {
	id          string
	port        int32
	data, error httpstream.Stream
	timer       *time.Timer
}

// run pairs the streams by request id and forwards each complete pair,
// until the connection closes.
func (f *forwarder) run(ctx context.Context, conn httpstream.Connection) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		// Closing ends the forwardings in flight (their Pod connections
		// close with ctx), then we wait for them.
		cancel()
		close(f.done)
		wg.Wait()
	}()
	pairs := map[string]*streamPair{}
	expired := make(chan string)
	for {
		select {
		case <-conn.CloseChan():
			return
		case <-ctx.Done():
			return
		case id := <-expired:
			p, ok := pairs[id]
			if !ok {
				continue
			}
			delete(pairs, id)
			msg := fmt.Sprintf("timed out waiting for the data and error streams of request %s (port %d)", id, p.port)
			if p.error != nil {
				_, _ = io.WriteString(p.error, msg)
			}
			for _, s := range []httpstream.Stream{p.data, p.error} {
				if s != nil {
					_ = s.Reset()
				}
			}
		case stream := <-f.streams:
			h := stream.Headers()
			id := h.Get(corev1.PortForwardRequestIDHeader)
			port, _ := parsePort(h.Get(corev1.PortHeader))
			p, ok := pairs[id]
			if !ok {
				p = &streamPair{id: id, port: port}
				p.timer = time.AfterFunc(streamPairTimeout, func() {
					select {
					case expired <- id:
					case <-ctx.Done():
					}
				})
				pairs[id] = p
			}
			dup := false
			if h.Get(corev1.StreamType) == corev1.StreamTypeData {
				dup, p.data = p.data != nil, stream
			} else {
				dup, p.error = p.error != nil, stream
			}
			if dup || port != p.port {
				f.log.Warn("port-forward: inconsistent streams for one request", "pod", f.pod.Namespace+"/"+f.pod.Name, "requestID", id)
				_ = stream.Reset()
				continue
			}
			if p.data == nil || p.error == nil {
				continue
			}
			p.timer.Stop()
			delete(pairs, id)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.RemoveStreams(p.data, p.error)
				f.forward(ctx, p)
			}()
		}
	}
}

// forward carries one connection: it dials the Pod's port and copies the
// data stream both ways, half-closing each side as the other finishes;
// a failed dial is reported on the error stream, as the kubelet does.
func (f *forwarder) forward(ctx context.Context, p *streamPair) {
	defer p.error.Close()
	defer p.data.Close()
	conn, err := f.dial(ctx, f.pod, p.port)
	if err != nil {
		_, _ = fmt.Fprintf(p.error, "error forwarding port %d to pod %s/%s, uid %s: %v", p.port, f.pod.Namespace, f.pod.Name, f.pod.UID, err)
		return
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	toPod := make(chan struct{})
	go func() {
		defer close(toPod)
		_, err := io.Copy(conn, p.data)
		if err != nil {
			// The client went away or reset the stream: end both ways.
			_ = conn.Close()
			return
		}
		if cw, ok := conn.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
	}()
	if _, err := io.Copy(p.data, conn); err != nil && !errors.Is(err, net.ErrClosed) {
		f.log.Debug("port-forward: copying from the pod", "pod", f.pod.Namespace+"/"+f.pod.Name, "port", p.port, "err", err)
	}
	// Tell the client the Pod is done sending; it then resets the data
	// stream, which ends the copy towards the Pod.
	_ = p.data.Close()
	select {
	case <-toPod:
	case <-ctx.Done():
	case <-time.After(streamPairTimeout):
	}
}

// isPodStream says whether sub is a streaming subresource of res, one
// that upgrades the connection: pods/portforward and pods/exec.
func isPodStream(res *Resource, sub string) bool {
	return res.Resource == "pods" && res.Group == "" && (sub == "portforward" || sub == "exec")
}

// servePodStream dispatches a streaming subresource request: GET (a
// websocket) and POST (SPDY), as kube-apiserver's connect verbs.
func (s *Server) servePodStream(w http.ResponseWriter, r *http.Request, req request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		s.fail(w, apierrors.NewMethodNotSupported(req.res.GroupResource(), strings.ToLower(r.Method)))
		return
	}
	if req.sub == "exec" {
		s.serveExec(w, r, req)
		return
	}
	s.servePortForward(w, r, req)
}
