package proxy

import (
	"context"
	"errors"
	"io"
	"net"
	"time"
)

// serveTCP accepts connections and forwards each to an endpoint.
func (p *Proxy) serveTCP(l *listener) {
	for {
		c, err := l.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				p.log().Debug("service proxy: accept", "err", err)
			}
			return
		}
		go p.forwardTCP(l, c)
	}
}

// forwardTCP joins the client's connection to a ready endpoint, trying
// the endpoints in turn from the chosen one until one answers. With no
// ready endpoint the connection is closed at once, as a Service without
// endpoints refuses.
func (p *Proxy) forwardTCP(l *listener, c net.Conn) {
	defer c.Close()
	eps := endpointsOf(p.endpoints, l.ns, l.svc, l.servicePort())
	if len(eps) == 0 {
		return
	}
	client, _, _ := net.SplitHostPort(c.RemoteAddr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var up net.Conn
	order := l.order(client, eps)
	for i, ep := range order {
		conn, err := dialAttempt(ctx, p.Net, ep, i, i == len(order)-1)
		if err == nil {
			up = conn
			l.remember(client, ep)
			break
		}
	}
	if up == nil {
		return
	}
	defer up.Close()
	p.relay(c, up)
}

// relay carries c and up both ways until both have ended, joined in
// the kernel where it can (see splicer), else in user space.
func (p *Proxy) relay(c, up net.Conn) {
	if p.splice != nil && p.splice.join(c, up) {
		return
	}
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); closeWrite(up); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); closeWrite(c); done <- struct{}{} }()
	<-done
	<-done
}

// dialAttempt dials one endpoint. An endpoint that has just gone (its
// Pod deleted a moment before the proxy heard) does not answer at all,
// so each attempt but the last is bounded, the bound doubling from
// 250 ms as the old user-space kube-proxy did: a live endpoint answers
// well within it, and a dead one costs a fraction of the client's
// patience instead of all of it. The last attempt has what is left.
func dialAttempt(ctx context.Context, n Netns, ep string, i int, last bool) (net.Conn, error) {
	if !last {
		d := 250 * time.Millisecond << min(i, 3)
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	return n.DialContext(ctx, "tcp", ep)
}

func closeWrite(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
}
