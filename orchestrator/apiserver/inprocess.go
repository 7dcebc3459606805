package apiserver

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
)

// InProcessTransport returns an http.RoundTripper that hands each request
// to h in this process: no TLS, no HTTP/2 framing, no loopback socket.
// The orchestrator's own components (controllers, scheduler, node agents,
// Service proxy) run in the API server's process and talk to it through
// this; everything else still comes over HTTPS.
//
// Each request runs h on a goroutine of its own, as net/http does. The
// response is returned once h has written its header (or returned), its
// body streamed as h writes it: a watch's events arrive as they are
// flushed. Closing the body, or cancelling the request's context, cancels
// the context h runs with, which ends a watch.
func InProcessTransport(h http.Handler) http.RoundTripper {
	return &inProcessTransport{h: h}
}

type inProcessTransport struct{ h http.Handler }

// errInProcessAborted is the body's error when the handler aborted the
// response (http.ErrAbortHandler, or any panic), as a broken connection
// would end it.
var errInProcessAborted = errors.New("the API server aborted the response")

// maxInProcessBuffered is how much a response body holds that its reader
// has not read yet before the handler's writes wait, as a socket's
// buffers make a slow reader hold back a writer.
const maxInProcessBuffered = 8 << 20

func (t *inProcessTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	sreq := req.Clone(ctx)
	sreq.RequestURI = req.URL.RequestURI()
	sreq.RemoteAddr = "in-process"
	sreq.Proto, sreq.ProtoMajor, sreq.ProtoMinor = "HTTP/1.1", 1, 1
	if sreq.Body == nil {
		sreq.Body = http.NoBody
	}
	if sreq.Host == "" {
		sreq.Host = req.URL.Host
	}
	w := &inProcessWriter{header: http.Header{}, ready: make(chan struct{})}
	w.cond = sync.NewCond(&w.mu)
	go func() {
		defer func() {
			// As net/http, a panic ends this response, not the process:
			// the body ends with an error, as a connection cut short.
			var err error
			if v := recover(); v != nil {
				err = errInProcessAborted
			}
			w.finish(err)
		}()
		t.h.ServeHTTP(w, sreq)
	}()
	select {
	case <-w.ready:
	case <-req.Context().Done():
		// Nobody will read the body: the handler's writes fail from now.
		cancel()
		w.abandon()
		return nil, req.Context().Err()
	}
	w.mu.Lock()
	code, header := w.code, w.sent
	w.mu.Unlock()
	resp := &http.Response{
		Status:        strconv.Itoa(code) + " " + http.StatusText(code),
		StatusCode:    code,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        header,
		Body:          &inProcessBody{w: w, cancel: cancel},
		ContentLength: -1,
		Request:       req,
	}
	if n, err := strconv.ParseInt(header.Get("Content-Length"), 10, 64); err == nil {
		resp.ContentLength = n
	}
	return resp, nil
}

// inProcessWriter is the handler's http.ResponseWriter and the buffer its
// body goes through to the client.
type inProcessWriter struct {
	header http.Header
	ready  chan struct{} // closed once the header is sent

	mu     sync.Mutex
	cond   *sync.Cond
	code   int
	sent   http.Header // the header as sent
	buf    []byte      // written, not read yet
	done   bool        // the handler returned
	err    error       // what reading past the end returns (nil: io.EOF)
	closed bool        // the client closed the body
}

func (w *inProcessWriter) Header() http.Header { return w.header }

func (w *inProcessWriter) WriteHeader(code int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writeHeaderLocked(code)
}

func (w *inProcessWriter) writeHeaderLocked(code int) {
	if w.sent != nil {
		return
	}
	w.code = code
	w.sent = w.header.Clone()
	close(w.ready)
}

func (w *inProcessWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writeHeaderLocked(http.StatusOK)
	for len(w.buf) >= maxInProcessBuffered && !w.closed {
		w.cond.Wait()
	}
	if w.closed {
		return 0, io.ErrClosedPipe
	}
	w.buf = append(w.buf, p...)
	w.cond.Broadcast()
	return len(p), nil
}

// Flush does nothing: what is written is readable at once.
func (w *inProcessWriter) Flush() {}

// finish marks the handler returned; err ends the body early.
func (w *inProcessWriter) finish(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writeHeaderLocked(http.StatusOK)
	w.done, w.err = true, err
	w.cond.Broadcast()
}

// abandon makes the handler's further writes fail, as on a connection
// the client closed.
func (w *inProcessWriter) abandon() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	w.buf = nil
	w.cond.Broadcast()
}

// inProcessBody is the response body the client reads.
type inProcessBody struct {
	w      *inProcessWriter
	cancel context.CancelFunc
}

func (b *inProcessBody) Read(p []byte) (int, error) {
	w := b.w
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.buf) == 0 && !w.done && !w.closed {
		w.cond.Wait()
	}
	if w.closed {
		return 0, errors.New("read on a closed response body")
	}
	if len(w.buf) == 0 {
		if w.err != nil {
			return 0, w.err
		}
		return 0, io.EOF
	}
	n := copy(p, w.buf)
	w.buf = w.buf[n:]
	if len(w.buf) == 0 {
		w.buf = nil
	}
	w.cond.Broadcast()
	return n, nil
}

// Close ends the request: the handler's context is cancelled, and its
// further writes fail, as on a connection the client closed.
func (b *inProcessBody) Close() error {
	b.cancel()
	b.w.abandon()
	return nil
}
