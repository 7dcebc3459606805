// Package proxy makes Services reachable, as kube-proxy and CoreDNS do
// on a real cluster, without touching the host's network configuration.
//
// Inside the cluster network namespace (see node.Network), every
// Service's cluster IP is an address of a dummy interface, and a proxy in
// the orchestrator listens on each cluster IP and port and forwards each
// connection to a ready endpoint, round robin (or by client address with
// sessionAffinity: ClientIP). NodePort and LoadBalancer Services are also
// served on 127.0.0.1 of the host, the only doors into the cluster
// network; a LoadBalancer reports 127.0.0.1 in status.loadBalancer.
//
// A user-space proxy was chosen over nftables rules: it needs no
// firewall tooling on the host, follows endpoint readiness the moment the
// Endpoints change, and is the same code whatever the kernel offers. Only
// TCP is proxied; the DNS server (dns.go) answers for Services and Pods
// under cluster.local on the kube-dns Service's address.
package proxy
