package proxy

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// forwarder sends plain HTTP/1.1 requests to backends on the handler's
// own goroutine, over kept-alive connections of its own pool: unlike
// http.Transport it hands nothing to per-connection reader and writer
// goroutines, so a request costs two fewer goroutine switches. Upgrades
// (websockets), Expect: 100-continue and trailers are left to the
// reverse proxy.
type forwarder struct {
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
	bufs *bufferPool

	mu   sync.Mutex
	idle map[string][]*backendConn
}

type backendConn struct {
	c  net.Conn
	br *bufio.Reader
	bw *bufio.Writer
}

// maxIdlePerBackend bounds the kept-alive connections to one endpoint.
const maxIdlePerBackend = 64

func (f *forwarder) get(ctx context.Context, addr string) (*backendConn, bool, error) {
	f.mu.Lock()
	if l := f.idle[addr]; len(l) > 0 {
		bc := l[len(l)-1]
		f.idle[addr] = l[:len(l)-1]
		f.mu.Unlock()
		return bc, true, nil
	}
	f.mu.Unlock()
	c, err := f.dial(ctx, "tcp", addr)
	if err != nil {
		return nil, false, err
	}
	return &backendConn{c: c, br: bufio.NewReaderSize(c, 4096), bw: bufio.NewWriterSize(c, 4096)}, false, nil
}

func (f *forwarder) put(addr string, bc *backendConn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.idle == nil {
		f.idle = map[string][]*backendConn{}
	}
	if len(f.idle[addr]) >= maxIdlePerBackend {
		bc.c.Close()
		return
	}
	f.idle[addr] = append(f.idle[addr], bc)
}

// canForward tells whether the request is one the forwarder handles.
func canForward(r *http.Request) bool {
	return r.ProtoMajor == 1 && r.Header.Get("Upgrade") == "" && r.Header.Get("Expect") == "" && len(r.Trailer) == 0
}

// hopHeaders are the hop-by-hop headers a proxy does not pass on.
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func removeHopHeaders(h http.Header) {
	for _, f := range h["Connection"] {
		for _, name := range strings.Split(f, ",") {
			if name = strings.TrimSpace(name); name != "" {
				h.Del(name)
			}
		}
	}
	for _, name := range hopHeaders {
		delete(h, name)
	}
}

// forward sends r to the endpoint t and copies the answer to w. A kept-
// alive connection the backend closed meanwhile is retried once on a new
// one when the request has no body.
func (f *forwarder) forward(w http.ResponseWriter, r *http.Request, t target) error {
	out := new(http.Request)
	*out = *r
	out.Header = r.Header.Clone()
	removeHopHeaders(out.Header)
	if _, ok := out.Header["User-Agent"]; !ok {
		out.Header["User-Agent"] = []string{""} // none, rather than Go's
	}
	u := *r.URL
	u.Scheme, u.Host = "http", t.addr
	if t.rewrite != "" {
		u.Path, u.RawPath = t.rewrite, ""
	}
	out.URL = &u
	out.RequestURI = ""
	out.Close = false
	if client, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		if prior := r.Header["X-Forwarded-For"]; len(prior) > 0 {
			client = strings.Join(prior, ", ") + ", " + client
		}
		out.Header["X-Forwarded-For"] = []string{client}
	}
	out.Header["X-Forwarded-Host"] = []string{r.Host}
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	out.Header["X-Forwarded-Proto"] = []string{proto}
	if out.ContentLength == 0 {
		out.Body = nil
	}
	var resp *http.Response
	var bc *backendConn
	var stop func() bool
	for try := 0; ; try++ {
		var reused bool
		var err error
		bc, reused, err = f.get(r.Context(), t.addr)
		if err != nil {
			return err
		}
		// A client that goes away ends the wait for the backend.
		conn := bc.c
		stop = context.AfterFunc(r.Context(), func() { _ = conn.SetDeadline(time.Now()) })
		if err = out.Write(bc.bw); err == nil {
			err = bc.bw.Flush()
		}
		if err == nil {
			resp, err = http.ReadResponse(bc.br, out)
		}
		if err == nil {
			break
		}
		stop()
		bc.c.Close()
		if !reused || out.Body != nil || try > 0 {
			return err
		}
	}
	removeHopHeaders(resp.Header)
	h := w.Header()
	for k, v := range resp.Header {
		h[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	buf := f.bufs.Get()
	var err error
	if resp.ContentLength == -1 {
		// A stream (server-sent events, chunked output): each piece goes
		// to the client as it comes.
		_, err = io.CopyBuffer(flushWriter{w}, resp.Body, buf)
	} else {
		_, err = io.CopyBuffer(w, resp.Body, buf)
	}
	f.bufs.Put(buf)
	resp.Body.Close()
	// A connection whose deadline the client's leaving set, or whose
	// answer did not end cleanly, is not reused. The answer has begun:
	// an error now has nothing more to tell the client.
	if !stop() || err != nil || resp.Close || !bodyDone(resp) {
		bc.c.Close()
		return nil
	}
	f.put(t.addr, bc)
	return nil
}

// bodyDone tells whether the response's body was read to its end, so the
// connection can carry the next request.
func bodyDone(resp *http.Response) bool {
	return resp.Body == http.NoBody || resp.ContentLength >= 0 || len(resp.TransferEncoding) > 0
}

type flushWriter struct{ w http.ResponseWriter }

func (f flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if fl, ok := f.w.(http.Flusher); ok {
		fl.Flush()
	}
	return n, err
}
