package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"

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

// netOptions are the cluster network and how its services run.
type netOptions struct {
	// network is the cluster network; nil in host-network mode.
	network *node.Network
	// dnsUpstream are the servers (IP:port) the cluster DNS forwards
	// other names to.
	dnsUpstream []string
	// userspaceRelay: see Options.UserspaceRelay.
	userspaceRelay bool
}

// DNSUpstreams checks and completes the --dns-upstream values: an IP
// address, with a port or not (53), or "host" for the nameservers of
// this host's /etc/resolv.conf (the cluster DNS forwards from the
// host's network, so a loopback resolver such as systemd-resolved's
// works).
func DNSUpstreams(values []string) ([]string, error) {
	return dnsUpstreams(values, "/etc/resolv.conf")
}

func dnsUpstreams(values []string, resolvConf string) ([]string, error) {
	var out []string
	for _, v := range values {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		if v == "host" {
			servers, err := resolvConfServers(resolvConf)
			if err != nil {
				return nil, fmt.Errorf("--dns-upstream host: %w", err)
			}
			out = append(out, servers...)
			continue
		}
		if ip := net.ParseIP(strings.Trim(v, "[]")); ip != nil {
			out = append(out, net.JoinHostPort(ip.String(), "53"))
			continue
		}
		host, port, err := net.SplitHostPort(v)
		if err != nil || net.ParseIP(host) == nil {
			return nil, fmt.Errorf("--dns-upstream %q: want an IP address, IP:PORT, or \"host\" for this host's resolvers", v)
		}
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			return nil, fmt.Errorf("--dns-upstream %q: the port must be 1-65535", v)
		}
		out = append(out, v)
	}
	return out, nil
}

// resolvConfServers lists the nameservers of a resolv.conf file.
func resolvConfServers(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "nameserver" {
			// A link-local server keeps its zone (fe80::1%eth0).
			if ip := net.ParseIP(strings.SplitN(f[1], "%", 2)[0]); ip != nil {
				out = append(out, net.JoinHostPort(f[1], "53"))
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s names no nameserver", path)
	}
	return out, nil
}

// startServices runs what makes Services reachable: in the cluster
// network, the cluster DNS, the Service proxy and the Ingress controller;
// without one (network nil: the no-root fallback), the Service proxy and
// the Ingress controller in the host's network. It returns the cluster
// DNS address Pods get, "" when there is none.
func startServices(ctx context.Context, cs kubernetes.Interface, opts netOptions, log *slog.Logger, run func(string, func(context.Context) error)) string {
	network := opts.network
	ingressAddrs := func(netns proxy.Netns) *proxy.Ingress {
		return &proxy.Ingress{Client: cs, Net: netns, Log: log.With("component", "ingress"),
			HTTPAddr: loopbackPort(80, 8080), HTTPSAddr: loopbackPort(443, 8443)}
	}
	if network == nil {
		log.Warn(hostNetworkWarning)
		run("service-proxy", (&proxy.Proxy{Client: cs, Net: proxy.HostNetwork{}, Log: log.With("component", "proxy"), NoSplice: opts.userspaceRelay}).Run)
		run("ingress", ingressAddrs(proxy.HostNetwork{}).Run)
		return ""
	}
	dnsIP := ""
	if err := ensureDNSService(ctx, cs); err != nil {
		log.Warn("cluster DNS Service", "err", err)
	} else {
		dnsIP = DNSAddress
		run("cluster-dns", (&proxy.DNS{Client: cs, Net: network, Address: dnsIP, Upstream: opts.dnsUpstream, Log: log.With("component", "dns")}).Run)
	}
	run("service-proxy", (&proxy.Proxy{Client: cs, Net: network, Log: log.With("component", "proxy"), NoSplice: opts.userspaceRelay}).Run)
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
