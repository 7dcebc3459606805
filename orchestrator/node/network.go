package node

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"sync"
)

// Network gives each Pod its own network namespace with an address on a
// bridge local to this host: Pods reach each other and the host by IP,
// containers of one Pod share localhost, and nothing is routed anywhere
// else. It needs root and iproute2.
type Network struct {
	// Bridge is the bridge's name; "" means "pkg0".
	Bridge string
	// CIDR is the Pods' network, the bridge holding its first address;
	// "" means 10.244.0.0/16.
	CIDR string

	mu    sync.Mutex
	ready bool
	used  map[string]bool
}

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

// ensureBridge creates the bridge with the gateway address, once.
func (n *Network) ensureBridge(ctx context.Context) error {
	if n.ready {
		return nil
	}
	ipnet, gw, err := n.cidr()
	if err != nil {
		return err
	}
	if _, err := net.InterfaceByName(n.bridge()); err != nil {
		if err := ipCmd(ctx, "link", "add", n.bridge(), "type", "bridge"); err != nil {
			return err
		}
	}
	ones, _ := ipnet.Mask.Size()
	addr := fmt.Sprintf("%s/%d", gw, ones)
	if err := ipCmd(ctx, "addr", "replace", addr, "dev", n.bridge()); err != nil {
		return err
	}
	if err := ipCmd(ctx, "link", "set", n.bridge(), "up"); err != nil {
		return err
	}
	n.ready = true
	if n.used == nil {
		n.used = map[string]bool{}
	}
	return nil
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
	for i := 2; i < size-1; i++ {
		v := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
		v += uint32(i)
		ip := net.IPv4(byte(v>>24), byte(v>>16), byte(v>>8), byte(v)).String()
		if ip == gw.String() || n.used[ip] {
			continue
		}
		n.used[ip] = true
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
		{"link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", ns},
		{"link", "set", host, "master", n.bridge(), "up"},
		{"-n", ns, "addr", "add", fmt.Sprintf("%s/%d", ip, ones), "dev", "eth0"},
		{"-n", ns, "link", "set", "eth0", "up"},
		{"-n", ns, "link", "set", "lo", "up"},
		{"-n", ns, "route", "add", "default", "via", gw.String()},
	}
	for _, s := range steps {
		if err := ipCmd(ctx, s...); err != nil {
			_ = ipCmd(context.WithoutCancel(ctx), "netns", "del", ns)
			delete(n.used, ip)
			return "", "", fmt.Errorf("pod network: %w", err)
		}
	}
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
