package node

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net"
	"os"
	"os/exec"
	goruntime "runtime"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Network gives each Pod its own network namespace with an address on the
// cluster network: a bridge inside a network namespace of the
// orchestrator's own (NS, "pkg-net" by default), so that nothing is added
// to the host's addresses, routes or firewall. Pods reach each other by
// IP, containers of one Pod share localhost, and nothing is routed out of
// the cluster network. The orchestrator itself reaches Pods with Dial,
// which opens the connection from inside the cluster network. It needs
// root and iproute2.
type Network struct {
	// NS is the cluster network's namespace; "" means "pkg-net".
	NS string
	// Bridge is the bridge's name; "" means "pkg0".
	Bridge string
	// CIDR is the Pods' network, the bridge holding its first address;
	// "" means 10.244.0.0/16.
	CIDR string

	mu    sync.Mutex
	ready bool
	used  map[string]bool
	// next is the offset in CIDR where the next search for a free
	// address starts: addresses are handed out in turn, as the host-local
	// IPAM plugin does, so that a Pod's address is not given to the next
	// Pod at once while caches elsewhere (ARP entries in the cluster
	// network and in other Pods, connections being torn down) still point
	// at the old one.
	next int
}

func (n *Network) ns() string {
	if n.NS == "" {
		return "pkg-net"
	}
	return n.NS
}

// Path is the cluster network namespace's path.
func (n *Network) Path() string { return "/var/run/netns/" + n.ns() }

func (n *Network) bridge() string {
	if n.Bridge == "" {
		return "pkg0"
	}
	return n.Bridge
}

func (n *Network) cidr() (*net.IPNet, net.IP, error) {
	c := n.CIDR
	if c == "" {
		c = "10.244.0.0/16"
	}
	ip, ipnet, err := net.ParseCIDR(c)
	if err != nil {
		return nil, nil, err
	}
	gw := ip.Mask(ipnet.Mask).To4()
	gw = net.IPv4(gw[0], gw[1], gw[2], gw[3]+1).To4()
	return ipnet, gw, nil
}

func ipCmd(ctx context.Context, args ...string) error {
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// bridgeMAC is the bridge's own MAC address: locally administered,
// derived from the network's namespace and bridge names so that it is
// the same each time the network is set up.
func (n *Network) bridgeMAC() string {
	h := sha256.Sum256([]byte(n.ns() + "/" + n.bridge()))
	return fmt.Sprintf("02:%02x:%02x:%02x:%02x:%02x", h[0], h[1], h[2], h[3], h[4])
}

// ensureBridge creates the bridge with the gateway address, once.
func (n *Network) ensureBridge(ctx context.Context) error {
	if n.ready {
		return nil
	}
	ipnet, gw, err := n.cidr()
	if err != nil {
		return err
	}
	if _, err := os.Stat(n.Path()); err != nil {
		if err := ipCmd(ctx, "netns", "add", n.ns()); err != nil {
			return err
		}
	}
	if err := ipCmd(ctx, "-n", n.ns(), "link", "show", n.bridge()); err != nil {
		if err := ipCmd(ctx, "-n", n.ns(), "link", "add", n.bridge(), "type", "bridge"); err != nil {
			return err
		}
	}
	ones, _ := ipnet.Mask.Size()
	addr := fmt.Sprintf("%s/%d", gw, ones)
	for _, step := range [][]string{
		// A bridge with no address of its own takes the lowest of its
		// ports' MAC addresses, so the gateway's MAC would change as
		// Pods come and go (and Pods would send to the old one until
		// their ARP entries age). A fixed address keeps it.
		{"-n", n.ns(), "link", "set", n.bridge(), "address", n.bridgeMAC()},
		{"-n", n.ns(), "addr", "replace", addr, "dev", n.bridge()},
		{"-n", n.ns(), "link", "set", n.bridge(), "up"},
		{"-n", n.ns(), "link", "set", "lo", "up"},
	} {
		if err := ipCmd(ctx, step...); err != nil {
			return err
		}
	}
	n.ready = true
	if n.used == nil {
		n.used = map[string]bool{}
	}
	return nil
}

// Gateway is the bridge's address in the cluster network: where the
// orchestrator's own services (the API server for Pods) listen.
func (n *Network) Gateway() (net.IP, error) {
	_, gw, err := n.cidr()
	return gw, err
}

// Ensure makes the cluster network (its namespace and bridge) if it is
// not there yet.
func (n *Network) Ensure(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ensureBridge(ctx)
}

// Remove deletes the cluster network's namespace (and with it the
// bridge); Pods' namespaces must be gone first.
func (n *Network) Remove(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.ready = false
	err := ipCmd(ctx, "netns", "del", n.ns())
	if err != nil && strings.Contains(err.Error(), "No such file") {
		return nil
	}
	return err
}

// Reserve marks an address in use (a Pod found running after a restart).
func (n *Network) Reserve(ip string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.used == nil {
		n.used = map[string]bool{}
	}
	n.used[ip] = true
}

// allocate picks a free address in the Pods' network.
func (n *Network) allocate() (string, error) {
	ipnet, gw, err := n.cidr()
	if err != nil {
		return "", err
	}
	base := ipnet.IP.To4()
	ones, bits := ipnet.Mask.Size()
	size := 1 << (bits - ones)
	// Offsets 0 (the network), 1 (the bridge) and size-1 (broadcast) are
	// never handed out.
	first, count := 2, size-3
	if count <= 0 {
		return "", fmt.Errorf("no free address left in %s", ipnet)
	}
	if n.next < first || n.next >= first+count {
		n.next = first
	}
	for k := 0; k < count; k++ {
		i := first + (n.next-first+k)%count
		v := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
		v += uint32(i)
		ip := net.IPv4(byte(v>>24), byte(v>>16), byte(v>>8), byte(v)).String()
		if ip == gw.String() || n.used[ip] {
			continue
		}
		n.used[ip] = true
		n.next = i + 1
		return ip, nil
	}
	return "", fmt.Errorf("no free address left in %s", ipnet)
}

// NSName is the network namespace of a Pod.
func NSName(podUID string) string {
	uid := strings.ReplaceAll(podUID, "-", "")
	if len(uid) > 12 {
		uid = uid[:12]
	}
	return "pkg-" + uid
}

// Setup creates the Pod's namespace, its veth pair on the bridge and its
// address, and returns the namespace's path and the IP.
func (n *Network) Setup(ctx context.Context, podUID string) (string, string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.ensureBridge(ctx); err != nil {
		return "", "", fmt.Errorf("pod network: %w", err)
	}
	ipnet, gw, _ := n.cidr()
	ns := NSName(podUID)
	ip, err := n.allocate()
	if err != nil {
		return "", "", err
	}
	host := "veth" + strings.TrimPrefix(ns, "pkg-")
	if len(host) > 15 {
		host = host[:15]
	}
	ones, _ := ipnet.Mask.Size()
	steps := [][]string{
		{"netns", "add", ns},
		{"-n", n.ns(), "link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", ns},
		{"-n", n.ns(), "link", "set", host, "master", n.bridge(), "up"},
		{"-n", ns, "addr", "add", fmt.Sprintf("%s/%d", ip, ones), "dev", "eth0"},
		{"-n", ns, "link", "set", "eth0", "up"},
		{"-n", ns, "link", "set", "lo", "up"},
		{"-n", ns, "route", "add", "default", "via", gw.String()},
	}
	// A namespace of this name left by an earlier run of the orchestrator
	// that was killed (its containers are gone: this Pod is being set up
	// anew) would make "netns add" fail: remove it first.
	if _, err := os.Stat("/var/run/netns/" + ns); err == nil {
		_ = ipCmd(ctx, "netns", "del", ns)
	}
	for _, s := range steps {
		if err := ipCmd(ctx, s...); err != nil {
			_ = ipCmd(context.WithoutCancel(ctx), "netns", "del", ns)
			delete(n.used, ip)
			return "", "", fmt.Errorf("pod network: %w", err)
		}
	}
	// An address used before (after the allocator went round, or by a
	// Pod of an earlier run) may still have an ARP entry in the cluster
	// network pointing at the old Pod's interface: forget it, so that the
	// first packet to the new Pod asks who has the address.
	_ = ipCmd(ctx, "-n", n.ns(), "neigh", "flush", "to", ip)
	return "/var/run/netns/" + ns, ip, nil
}

// Teardown removes the Pod's namespace (and with it its veth pair) and
// frees its address.
func (n *Network) Teardown(ctx context.Context, podUID, ip string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.used, ip)
	err := ipCmd(ctx, "netns", "del", NSName(podUID))
	if err != nil && strings.Contains(err.Error(), "No such file") {
		return nil
	}
	return err
}

// Do runs f on a thread that has entered the cluster network namespace:
// sockets f opens (dials, listeners) live in the cluster network. The
// thread is never returned to the scheduler, so no other goroutine runs
// in that namespace by accident.
func (n *Network) Do(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		goruntime.LockOSThread()
		// No UnlockOSThread: the thread ends with this goroutine.
		fd, err := unix.Open(n.Path(), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("entering the cluster network %s: %w", n.Path(), err)
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("entering the cluster network %s: %w", n.Path(), err)
			return
		}
		errc <- f()
	}()
	return <-errc
}

// DialContext connects to address from inside the cluster network, as
// probes and the orchestrator's proxies reach Pods.
func (n *Network) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	var conn net.Conn
	err := n.Do(func() error {
		var err error
		conn, err = (&net.Dialer{}).DialContext(ctx, network, address)
		return err
	})
	return conn, err
}
