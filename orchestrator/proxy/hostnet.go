package proxy

import (
	"context"
	"net"
)

// HostNetwork is the host's own network, the fallback when the
// orchestrator may not make network namespaces (it does not run as
// root): there are no cluster IPs, and the Proxy serves only node ports
// and load balancers on the host's loopback, forwarding to endpoints
// addressed on the host (Pods in the host's network); the Ingress
// controller works as usual.
type HostNetwork struct{}

var _ Netns = HostNetwork{}

// Path is "": there is no namespace.
func (HostNetwork) Path() string { return "" }

// Do runs f in the host's network.
func (HostNetwork) Do(f func() error) error { return f() }

// DialContext connects from the host.
func (HostNetwork) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	return (&net.Dialer{}).DialContext(ctx, network, address)
}
