package proxy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// nftTable is the table holding the Service rules, in the cluster
// network namespace only: the host's ruleset is never read or written.
const nftTable = "pkg_services"

// nftRules serves TCP cluster IPs in the kernel, as kube-proxy's nftables
// mode does: a packet to a cluster IP and port is DNATed to a ready
// endpoint chosen at random (or, with ClientIP affinity, the endpoint the
// client last reached while its entry lasts), in the prerouting hook for
// Pods and the output hook for the orchestrator's own connections. DNATed
// packets leaving on the Pods' bridge are masqueraded to the gateway, so
// a reply from a Pod to a Pod on the same bridge comes back through the
// cluster network to be un-NATed.
type nftRules struct {
	ns  string
	net Netns

	mu     sync.Mutex
	chains map[string]bool // per-Service and per-endpoint chains in the table
	sets   map[string]bool // affinity sets in the table
	last   string          // the last script applied
}

// nftService is one TCP Service port as the kernel serves it.
type nftService struct {
	key      string // namespace/name:port
	ip       string
	port     int32
	eps      []string // ready endpoints, ip:port
	affinity time.Duration
}

func (p *Proxy) nftService(s *corev1.Service, sp corev1.ServicePort) nftService {
	r := nftService{
		key:  s.Namespace + "/" + s.Name + ":" + strconv.Itoa(int(sp.Port)),
		ip:   s.Spec.ClusterIP,
		port: sp.Port,
	}
	// The table is of family ip: IPv6 endpoints (none in the bundled
	// cluster's IPv4 network) are left out rather than break the script.
	for _, ep := range endpointsOf(p.endpoints, s.Namespace, s.Name, sp) {
		host, _, _ := net.SplitHostPort(ep)
		if ip := net.ParseIP(host); ip != nil && ip.To4() != nil {
			r.eps = append(r.eps, ep)
		}
	}
	if s.Spec.SessionAffinity == corev1.ServiceAffinityClientIP {
		r.affinity = affinityTimeout(s)
	}
	return r
}

func (k *nftRules) nft(ctx context.Context, script string) error {
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", k.ns, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("nft in network namespace %s: %v: %s", k.ns, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// init starts from an empty table with the hooks, and lets the cluster
// network forward (a Pod's packet to a cluster IP leaves DNATed on the
// bridge it came from). Where br_netfilter is loaded, it is turned off
// for the cluster network's bridge (the setting is per namespace): with
// it, a packet DNATed to the Pod that sent it would be bridged back out
// of the port it came in by, which a bridge refuses, so a Pod could not
// reach itself through its Service.
func (k *nftRules) init(ctx context.Context) error {
	k.chains, k.sets = map[string]bool{}, map[string]bool{}
	err := k.net.Do(func() error {
		if err := os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1\n"), 0o644); err != nil {
			return err
		}
		err := os.WriteFile("/proc/sys/net/bridge/bridge-nf-call-iptables", []byte("0\n"), 0o644)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("setting up forwarding in the cluster network: %w", err)
	}
	_ = k.nft(ctx, "delete table ip "+nftTable+"\n")
	return k.nft(ctx, `table ip `+nftTable+` {
	chain services {
	}
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		jump services
	}
	chain output {
		type nat hook output priority -100; policy accept;
		jump services
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ct status dnat oifname != "lo" masquerade
	}
}
`)
}

// remove deletes the table.
func (k *nftRules) remove(ctx context.Context) {
	_ = k.nft(ctx, "delete table ip "+nftTable+"\n")
}

func nftName(prefix string, parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return prefix + hex.EncodeToString(sum[:6])
}

// apply replaces the Service rules with svcs in one transaction. Chains
// and affinity sets that stay keep their names (and the sets their
// entries); those no longer wanted are flushed and deleted.
func (k *nftRules) apply(ctx context.Context, svcs []nftService) error {
	sort.Slice(svcs, func(i, j int) bool { return svcs[i].key < svcs[j].key })
	var b strings.Builder
	chains, sets := map[string]bool{}, map[string]bool{}
	var rules strings.Builder
	fmt.Fprintf(&rules, "flush chain ip %s services\n", nftTable)
	for _, s := range svcs {
		if len(s.eps) == 0 || net.ParseIP(s.ip).To4() == nil {
			continue // no rule: the cluster IP, local here, refuses
		}
		svc := nftName("svc_", s.key)
		chains[svc] = true
		fmt.Fprintf(&rules, "add rule ip %s services ip daddr %s tcp dport %d jump %s comment %q\n", nftTable, s.ip, s.port, svc, s.key)
		var vmap []string
		for i, ep := range s.eps {
			epChain := nftName("ep_", s.key, ep)
			chains[epChain] = true
			host, port, _ := net.SplitHostPort(ep)
			if s.affinity > 0 {
				set := nftName("aff_", s.key, ep, s.affinity.String())
				sets[set] = true
				fmt.Fprintf(&b, "add set ip %s %s { type ipv4_addr; flags dynamic,timeout; timeout %ds; }\n", nftTable, set, int(s.affinity.Seconds()))
				fmt.Fprintf(&rules, "add rule ip %s %s ip saddr @%s goto %s\n", nftTable, svc, set, epChain)
				fmt.Fprintf(&rules, "add rule ip %s %s update @%s { ip saddr }\n", nftTable, epChain, set)
			}
			fmt.Fprintf(&rules, "add rule ip %s %s meta l4proto tcp dnat to %s:%s\n", nftTable, epChain, host, port)
			vmap = append(vmap, fmt.Sprintf("%d : goto %s", i, epChain))
		}
		fmt.Fprintf(&rules, "add rule ip %s %s numgen random mod %d vmap { %s }\n", nftTable, svc, len(s.eps), strings.Join(vmap, ", "))
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for c := range chains {
		fmt.Fprintf(&b, "add chain ip %s %s\n", nftTable, c)
	}
	// Every chain, old and new, is flushed before the rules are added, so
	// that a stale chain is unreferenced when it is deleted.
	for _, m := range []map[string]bool{chains, k.chains} {
		for _, c := range sortedKeys(m) {
			fmt.Fprintf(&b, "flush chain ip %s %s\n", nftTable, c)
		}
	}
	b.WriteString(rules.String())
	for _, c := range sortedKeys(k.chains) {
		if !chains[c] {
			fmt.Fprintf(&b, "delete chain ip %s %s\n", nftTable, c)
		}
	}
	for _, s := range sortedKeys(k.sets) {
		if !sets[s] {
			fmt.Fprintf(&b, "delete set ip %s %s\n", nftTable, s)
		}
	}
	script := b.String()
	if script == k.last {
		return nil
	}
	if err := k.nft(ctx, script); err != nil {
		return err
	}
	k.chains, k.sets, k.last = chains, sets, script
	return nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
