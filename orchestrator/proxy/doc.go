// Package proxy makes Services reachable, as kube-proxy and CoreDNS do
// on a real cluster, without touching the host's network configuration.
//
// Inside the cluster network namespace (see node.Network), every
// Service's cluster IP is an address of that namespace's loopback. TCP
// cluster IPs are served in the kernel by nftables rules in that
// namespace only (nftables.go, as kube-proxy's nftables mode does: a
// random ready endpoint, or the client's affine one with
// sessionAffinity: ClientIP); where the nft command is missing, and for
// UDP, a proxy in the orchestrator listens on each cluster IP and port
// and forwards each connection or UDP flow to a ready endpoint (tcp.go,
// udp.go). The kernel path adds no measurable latency; the user-space
// one adds about 20 µs a request (see BenchmarkPaths).
//
// NodePort and LoadBalancer Services are served on 127.0.0.1 of the host
// (TCP and UDP), the only doors into the cluster network; a LoadBalancer
// reports 127.0.0.1 in status.loadBalancer. SCTP ports are ignored with
// an Event. Without root there is no cluster network: HostNetwork stands
// in for it and only node ports, load balancers and the Ingress are
// served, to endpoints on the host.
//
// The DNS server (dns.go) answers for Services and Pods under
// cluster.local on the kube-dns Service's address, and the Ingress
// controller (ingress.go) routes HTTP and HTTPS from the host's loopback.
// Problems with the objects (a missing backend, a broken certificate, a
// port taken on the host) are Warning Events on them (events.go).
package proxy
