package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/apimachinery/pkg/util/httpstream/spdy"
	"k8s.io/apimachinery/pkg/util/httpstream/wsstream"
	"k8s.io/klog/v2"
)

// The remote command protocols (kubectl exec). Over SPDY the client opens
// one stream per standard stream it asked for (stdin, stdout, stderr), an
// "error" stream, and a "resize" stream with a terminal; over a websocket
// the same streams are numbered channels 0 to 4 of one connection. The
// server reports the end on the error stream as a Status: Success, or
// Failure with reason NonZeroExitCode and the code as an ExitCode cause.
const (
	// execProtocolV4 is the SPDY protocol, and the websocket one before
	// v5; v5 adds a way to close stdin (channel 255).
	execProtocolV4 = "v4.channel.k8s.io"
	execProtocolV5 = "v5.channel.k8s.io"
)

// TerminalSize is the size of a terminal in characters, as a client
// sends it on the resize stream.
type TerminalSize struct {
	Width, Height uint16
}

// ExecIO are the streams of one exec: nil for those not asked for.
type ExecIO struct {
	// Stdin is what the client types; nil without -i.
	Stdin io.Reader
	// Stdout and Stderr reach the client; with TTY, Stderr is nil and
	// the terminal writes to Stdout.
	Stdout, Stderr io.Writer
	// TTY runs the command on a terminal of Resize's sizes.
	TTY    bool
	Resize <-chan TerminalSize
}

// PodExecFunc runs command in a running container of pod (the Pod object
// as stored) and returns its exit code once it ended.
type PodExecFunc func(ctx context.Context, pod *corev1.Pod, container string, command []string, streams ExecIO) (int, error)

// execRequest is what a pods/exec request asks for.
type execRequest struct {
	pod                        *corev1.Pod
	container                  string
	command                    []string
	stdin, stdout, stderr, tty bool
}

// serveExec answers GET and POST pods/NAME/exec: it checks the Pod, the
// container and the options, upgrades the connection (SPDY, or a
// websocket of numbered channels) and runs the command through
// Config.PodExec.
func (s *Server) serveExec(w http.ResponseWriter, r *http.Request, req request) {
	if s.cfg.PodExec == nil {
		s.fail(w, apierrors.NewNotFound(req.res.GroupResource(), req.name+"/exec"))
		return
	}
	pod, err := s.getPod(r.Context(), req)
	if err != nil {
		s.fail(w, err)
		return
	}
	x, err := execOptions(r, pod)
	if err != nil {
		s.fail(w, err)
		return
	}
	if !httpstream.IsUpgradeRequest(r) {
		s.fail(w, apierrors.NewBadRequest("exec needs an upgraded connection: ask with Connection: Upgrade (SPDY/3.1, or a websocket)"))
		return
	}
	if wsstream.IsWebSocketRequest(r) {
		s.execWebsocket(w, r, x)
		return
	}
	s.execSPDY(w, r, x)
}

// execOptions reads and checks the query of a pods/exec request.
func execOptions(r *http.Request, pod *corev1.Pod) (*execRequest, error) {
	q := r.URL.Query()
	x := &execRequest{
		pod: pod, container: q.Get("container"), command: q["command"],
		stdin: boolParam(r, "stdin"), stdout: boolParam(r, "stdout"), stderr: boolParam(r, "stderr"), tty: boolParam(r, "tty"),
	}
	if len(x.command) == 0 {
		return nil, apierrors.NewBadRequest("you must specify at least 1 command")
	}
	if !x.stdin && !x.stdout && !x.stderr {
		return nil, apierrors.NewBadRequest("you must specify at least one of stdin, stdout, stderr")
	}
	if x.tty && x.stderr {
		return nil, apierrors.NewBadRequest("stderr and tty cannot both be true: a terminal has one output")
	}
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("cannot exec into a container in a completed pod; current phase is %s", pod.Status.Phase))
	}
	if x.container == "" {
		if len(pod.Spec.Containers) != 1 {
			var names []string
			for _, c := range pod.Spec.Containers {
				names = append(names, c.Name)
			}
			return nil, apierrors.NewBadRequest(fmt.Sprintf("a container name must be specified for pod %s, choose one of: [%s]", pod.Name, strings.Join(names, " ")))
		}
		x.container = pod.Spec.Containers[0].Name
	}
	found := false
	for _, c := range append(append([]corev1.Container(nil), pod.Spec.InitContainers...), pod.Spec.Containers...) {
		found = found || c.Name == x.container
	}
	if !found {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("container %s is not valid for pod %s", x.container, pod.Name))
	}
	running := false
	for _, st := range append(append([]corev1.ContainerStatus(nil), pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...) {
		running = running || (st.Name == x.container && st.State.Running != nil)
	}
	if !running {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("container %s is not running in pod %s/%s", x.container, pod.Namespace, pod.Name))
	}
	return x, nil
}

// execSPDY serves an exec over SPDY (protocol v4).
func (s *Server) execSPDY(w http.ResponseWriter, r *http.Request, x *execRequest) {
	if _, err := httpstream.Handshake(r, w, []string{execProtocolV4}); err != nil {
		return
	}
	type received struct {
		stream    httpstream.Stream
		replySent <-chan struct{}
	}
	ch := make(chan received, 5)
	done := make(chan struct{})
	defer close(done)
	conn := spdy.NewResponseUpgrader().UpgradeResponse(w, r, func(st httpstream.Stream, replySent <-chan struct{}) error {
		select {
		case ch <- received{st, replySent}:
			return nil
		case <-done:
			return fmt.Errorf("the exec connection is closing")
		}
	})
	if conn == nil {
		return
	}
	defer conn.Close()
	conn.SetIdleTimeout(streamIdleTimeout)
	want := map[string]bool{corev1.StreamTypeError: true, corev1.StreamTypeStdin: x.stdin, corev1.StreamTypeStdout: x.stdout,
		corev1.StreamTypeStderr: x.stderr, corev1.StreamTypeResize: x.tty}
	streams := map[string]httpstream.Stream{}
	var replies []<-chan struct{}
	expected := 0
	for _, v := range want {
		if v {
			expected++
		}
	}
	timeout := time.NewTimer(streamPairTimeout)
	defer timeout.Stop()
	for len(streams) < expected {
		select {
		case got := <-ch:
			t := got.stream.Headers().Get(corev1.StreamType)
			if !want[t] || streams[t] != nil {
				_ = got.stream.Reset()
				continue
			}
			streams[t] = got.stream
			replies = append(replies, got.replySent)
		case <-timeout.C:
			s.log.Warn("exec: the client did not open its streams", "pod", x.pod.Namespace+"/"+x.pod.Name, "got", len(streams), "want", expected)
			if e := streams[corev1.StreamTypeError]; e != nil {
				writeExecStatus(e, apierrors.NewTimeoutError("waiting for the client's exec streams", 0).Status())
			}
			return
		case <-conn.CloseChan():
			return
		}
	}
	for _, rs := range replies {
		<-rs
	}
	eio := ExecIO{TTY: x.tty}
	if st := streams[corev1.StreamTypeStdin]; st != nil {
		eio.Stdin = st
	}
	if st := streams[corev1.StreamTypeStdout]; st != nil {
		eio.Stdout = st
	}
	if st := streams[corev1.StreamTypeStderr]; st != nil {
		eio.Stderr = st
	}
	if st := streams[corev1.StreamTypeResize]; st != nil {
		eio.Resize = decodeResizes(st)
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		select {
		case <-conn.CloseChan():
			cancel()
		case <-ctx.Done():
		}
	}()
	status := s.runExec(ctx, x, eio)
	writeExecStatus(streams[corev1.StreamTypeError], status)
	for _, st := range streams {
		_ = st.Close()
	}
}

// The websocket channels of an exec, by number.
const (
	chanStdin = iota
	chanStdout
	chanStderr
	chanError
	chanResize
)

// execWebsocket serves an exec over a websocket of numbered channels
// (protocols v4 and v5).
func (s *Server) execWebsocket(w http.ResponseWriter, r *http.Request, x *execRequest) {
	kind := func(on bool, t wsstream.ChannelType) wsstream.ChannelType {
		if on {
			return t
		}
		return wsstream.IgnoreChannel
	}
	channels := []wsstream.ChannelType{
		chanStdin:  kind(x.stdin, wsstream.ReadChannel),
		chanStdout: kind(x.stdout, wsstream.WriteChannel),
		chanStderr: kind(x.stderr, wsstream.WriteChannel),
		chanError:  wsstream.WriteChannel,
		chanResize: kind(x.tty, wsstream.ReadChannel),
	}
	conn := wsstream.NewConn(map[string]wsstream.ChannelProtocolConfig{
		execProtocolV5: {Binary: true, Channels: channels},
		execProtocolV4: {Binary: true, Channels: channels},
	})
	conn.SetIdleTimeout(streamIdleTimeout)
	// The connection's read loop logs through the request's logger: a
	// client that leaves once it has the status is no error to report.
	_, streams, err := conn.Open(w, r.WithContext(klog.NewContext(r.Context(), logr.Discard())))
	if err != nil {
		// Open answered the client.
		s.log.Debug("exec: websocket", "err", err)
		return
	}
	defer conn.Close()
	// An empty message on the first output channel tells the client the
	// connection is ready, as the kubelet does.
	switch {
	case x.stdout:
		_, _ = streams[chanStdout].Write(nil)
	case x.stderr:
		_, _ = streams[chanStderr].Write(nil)
	default:
		_, _ = streams[chanError].Write(nil)
	}
	eio := ExecIO{TTY: x.tty}
	if x.stdin {
		eio.Stdin = streams[chanStdin]
	}
	if x.stdout {
		eio.Stdout = streams[chanStdout]
	}
	if x.stderr {
		eio.Stderr = streams[chanStderr]
	}
	if x.tty {
		eio.Resize = decodeResizes(streams[chanResize])
	}
	status := s.runExec(r.Context(), x, eio)
	writeExecStatus(streams[chanError], status)
}

// runExec runs the command and says how it ended, as a Status.
func (s *Server) runExec(ctx context.Context, x *execRequest, streams ExecIO) metav1.Status {
	code, err := s.cfg.PodExec(ctx, x.pod, x.container, x.command, streams)
	switch {
	case err != nil:
		return apierrors.NewInternalError(fmt.Errorf("error executing command in container %s of pod %s/%s: %w", x.container, x.pod.Namespace, x.pod.Name, err)).Status()
	case code != 0:
		return metav1.Status{
			Status:  metav1.StatusFailure,
			Reason:  "NonZeroExitCode",
			Message: fmt.Sprintf("command terminated with non-zero exit code: %d", code),
			Details: &metav1.StatusDetails{Causes: []metav1.StatusCause{{Type: "ExitCode", Message: strconv.Itoa(code)}}},
		}
	default:
		return metav1.Status{Status: metav1.StatusSuccess}
	}
}

// writeExecStatus writes the end of an exec on its error stream.
func writeExecStatus(w io.Writer, st metav1.Status) {
	raw, err := json.Marshal(st)
	if err != nil {
		return
	}
	_, _ = w.Write(raw)
}

// decodeResizes reads the terminal sizes a client sends (JSON objects,
// one after the other) until the stream ends; it keeps the latest one
// when the command lags behind.
func decodeResizes(r io.Reader) <-chan TerminalSize {
	ch := make(chan TerminalSize, 1)
	go func() {
		defer close(ch)
		dec := json.NewDecoder(r)
		for {
			var size TerminalSize
			if err := dec.Decode(&size); err != nil {
				return
			}
			select {
			case ch <- size:
			default:
				select {
				case <-ch:
				default:
				}
				ch <- size
			}
		}
	}()
	return ch
}
