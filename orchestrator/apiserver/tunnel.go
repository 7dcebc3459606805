package apiserver

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/apimachinery/pkg/util/httpstream/spdy"
)

// tunnelPrefix starts the websocket subprotocol of a SPDY connection
// tunnelled in a websocket, as kubectl 1.30 and later first try for
// port-forward: "SPDY/3.1+portforward.k8s.io".
const tunnelPrefix = "SPDY/3.1+"

// isWebsocket says whether r asks to upgrade to a websocket.
func isWebsocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// upgradeTunnel upgrades r to a websocket whose binary messages carry a
// SPDY connection speaking protocol, served with accept as its
// new-stream handler. It returns nil after answering the client when the
// upgrade is not possible (a client that does not offer the protocol gets
// 400 and, being kubectl, falls back to plain SPDY).
func (s *Server) upgradeTunnel(w http.ResponseWriter, r *http.Request, protocol string, accept httpstream.NewStreamHandler) httpstream.Connection {
	want := tunnelPrefix + protocol
	if !offersSubprotocol(r, want) {
		s.fail(w, apierrors.NewBadRequest(fmt.Sprintf("unable to upgrade: the websocket subprotocols %q do not include %q", websocket.Subprotocols(r), want)))
		return nil
	}
	up := websocket.Upgrader{
		Subprotocols:     []string{want},
		HandshakeTimeout: 10 * time.Second,
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			s.fail(w, apierrors.NewGenericServerResponse(status, r.Method, corev1.Resource("pods"), "", fmt.Sprintf("unable to upgrade to a websocket: %v", reason), 0, false))
		},
	}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		// The upgrader answered the client.
		return nil
	}
	conn, err := spdy.NewServerConnection(&wsConn{ws: ws}, accept)
	if err != nil {
		_ = ws.Close()
		s.log.Warn("port-forward: SPDY over websocket", "err", err)
		return nil
	}
	return conn
}

// offersSubprotocol says whether r's Sec-WebSocket-Protocol lists want.
func offersSubprotocol(r *http.Request, want string) bool {
	for _, p := range websocket.Subprotocols(r) {
		if p == want {
			return true
		}
	}
	return false
}

// wsConn is a net.Conn over a websocket: each Write is one binary
// message, and Read reads the binary messages' bytes in order.
type wsConn struct {
	ws  *websocket.Conn
	rmu sync.Mutex
	cur io.Reader
	wmu sync.Mutex
}

var _ net.Conn = (*wsConn)(nil)

func (c *wsConn) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for {
		if c.cur == nil {
			typ, r, err := c.ws.NextReader()
			if err != nil {
				if websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway) {
					return 0, io.EOF
				}
				return 0, err
			}
			if typ != websocket.BinaryMessage {
				return 0, fmt.Errorf("unexpected websocket message type %d in a SPDY tunnel", typ)
			}
			c.cur = r
		}
		n, err := c.cur.Read(p)
		if err == io.EOF {
			c.cur = nil
			if n == 0 {
				continue
			}
			err = nil
		}
		return n, err
	}
}

func (c *wsConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.ws.WriteMessage(websocket.BinaryMessage, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *wsConn) Close() error {
	c.wmu.Lock()
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	c.wmu.Unlock()
	return c.ws.Close()
}

func (c *wsConn) LocalAddr() net.Addr                { return c.ws.LocalAddr() }
func (c *wsConn) RemoteAddr() net.Addr               { return c.ws.RemoteAddr() }
func (c *wsConn) SetDeadline(t time.Time) error      { return c.ws.NetConn().SetDeadline(t) }
func (c *wsConn) SetReadDeadline(t time.Time) error  { return c.ws.SetReadDeadline(t) }
func (c *wsConn) SetWriteDeadline(t time.Time) error { return c.ws.SetWriteDeadline(t) }
