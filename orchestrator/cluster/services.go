package cluster

import (
	"context"
	"log/slog"
	"net"
	"strconv"

	"k8s.io/client-go/kubernetes"

	"pkg.dev/pkg/orchestrator/node"
	"pkg.dev/pkg/orchestrator/proxy"
)

// hostNetworkWarning is what the orchestrator says at start when it may
// not make network namespaces.
const hostNetworkWarning = "no cluster network (network namespaces need root and iproute2): host-network mode. " +
	"Pods get no address of their own, cluster IPs and the cluster DNS are not served; " +
	"NodePort and LoadBalancer Services are served on 127.0.0.1 and the Ingress controller on 127.0.0.1, " +
	"forwarding to endpoints on the host (see \"Host-network mode\" in docs/orchestrator.md)"

// startServices runs what makes Services reachable: in the cluster
// network, the cluster DNS, the Service proxy and the Ingress controller;
// without one (network nil: the no-root fallback), the Service proxy and
// the Ingress controller in the host's network. It returns the cluster
// DNS address Pods get, "" when there is none.
func startServices(ctx context.Context, cs kubernetes.Interface, network *node.Network, log *slog.Logger, run func(string, func(context.Context) error)) string {
	ingressAddrs := func(netns proxy.Netns) *proxy.Ingress {
		return &proxy.Ingress{Client: cs, Net: netns, Log: log.With("component", "ingress"),
			HTTPAddr: loopbackPort(80, 8080), HTTPSAddr: loopbackPort(443, 8443)}
	}
	if network == nil {
		log.Warn(hostNetworkWarning)
		run("service-proxy", (&proxy.Proxy{Client: cs, Net: proxy.HostNetwork{}, Log: log.With("component", "proxy")}).Run)
		run("ingress", ingressAddrs(proxy.HostNetwork{}).Run)
		return ""
	}
	dnsIP := ""
	if err := ensureDNSService(ctx, cs); err != nil {
		log.Warn("cluster DNS Service", "err", err)
	} else {
		dnsIP = DNSAddress
		run("cluster-dns", (&proxy.DNS{Client: cs, Net: network, Address: dnsIP, Log: log.With("component", "dns")}).Run)
	}
	run("service-proxy", (&proxy.Proxy{Client: cs, Net: network, Log: log.With("component", "proxy")}).Run)
	run("ingress", ingressAddrs(network).Run)
	return dnsIP
}

// loopbackPort returns 127.0.0.1:port if it can be bound now, else the
// fallback port, else a free port the system picks (the Ingress prefers
// 80 and 443, as root may bind them; status.loadBalancer reports the
// ports it got).
func loopbackPort(port, fallback int) string {
	for _, p := range []int{port, fallback, 0} {
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err == nil {
			addr := ln.Addr().String()
			ln.Close()
			return addr
		}
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(fallback))
}
