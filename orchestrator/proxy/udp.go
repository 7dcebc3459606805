package proxy

import (
	"context"
	"errors"
	"net"
	"slices"
	"sync/atomic"
	"time"
)

// udpIdle is how long a UDP flow lives without a datagram either way
// (conntrack's timeout for an unreplied UDP flow).
const udpIdle = 30 * time.Second

// udpFlow is one client's conversation with one endpoint: a connected
// socket in the cluster network, whose replies go back to the client
// from the Service's address.
type udpFlow struct {
	ep   string
	up   net.Conn
	last atomic.Int64 // unix nanoseconds of the last datagram
}

// serveUDP reads datagrams and forwards each to the endpoint of its
// client's flow, making the flow on the first datagram.
func (p *Proxy) serveUDP(l *listener) {
	buf := make([]byte, 64<<10)
	for {
		n, from, err := l.pc.ReadFrom(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				p.log().Debug("service proxy: udp read", "err", err)
			}
			return
		}
		f := p.udpFlow(l, from)
		if f == nil {
			continue // no ready endpoint: dropped, as the kernel would
		}
		f.last.Store(time.Now().UnixNano())
		if _, err := f.up.Write(buf[:n]); err != nil {
			p.log().Debug("service proxy: udp write", "endpoint", f.ep, "err", err)
		}
	}
}

// udpFlow returns the client's flow, making one to a ready endpoint when
// there is none or its endpoint is no longer ready.
func (p *Proxy) udpFlow(l *listener, from net.Addr) *udpFlow {
	eps := endpointsOf(p.endpoints, l.ns, l.svc, l.servicePort())
	key := from.String()
	l.mu.Lock()
	f := l.flows[key]
	l.mu.Unlock()
	if f != nil {
		if slices.Contains(eps, f.ep) {
			return f
		}
		f.up.Close() // its endpoint left: the reader forgets the flow
	}
	if len(eps) == 0 {
		return nil
	}
	client, _, _ := net.SplitHostPort(key)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, ep := range l.order(client, eps) {
		up, err := p.Net.DialContext(ctx, "udp", ep)
		if err != nil {
			continue
		}
		f = &udpFlow{ep: ep, up: up}
		f.last.Store(time.Now().UnixNano())
		l.remember(client, ep)
		l.mu.Lock()
		l.flows[key] = f
		l.mu.Unlock()
		go p.udpReplies(l, from, f)
		return f
	}
	return nil
}

// udpReplies sends the endpoint's datagrams back to the client until the
// flow is idle for udpIdle or closed.
func (p *Proxy) udpReplies(l *listener, client net.Addr, f *udpFlow) {
	defer func() {
		f.up.Close()
		l.mu.Lock()
		if l.flows[client.String()] == f {
			delete(l.flows, client.String())
		}
		l.mu.Unlock()
	}()
	buf := make([]byte, 64<<10)
	for {
		_ = f.up.SetReadDeadline(time.Unix(0, f.last.Load()).Add(udpIdle))
		n, err := f.up.Read(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && time.Since(time.Unix(0, f.last.Load())) < udpIdle {
				continue // a datagram came meanwhile: not idle
			}
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, net.ErrClosed) {
				return
			}
			// ICMP port unreachable from the endpoint: keep the flow, a
			// server may start listening.
			continue
		}
		f.last.Store(time.Now().UnixNano())
		if _, err := l.pc.WriteTo(buf[:n], client); err != nil {
			return
		}
	}
}
