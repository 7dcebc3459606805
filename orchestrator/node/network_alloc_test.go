package node

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// Addresses are handed out in turn: one freed is not given to the very
// next Pod (ARP caches and connections may still point at the old Pod),
// only after the range went round.
func TestNetworkAllocatesInTurn(t *testing.T) {
	n := &Network{CIDR: "10.9.0.0/29"} // .1 the bridge; .2–.6 for Pods
	n.used = map[string]bool{}
	var got []string
	for range 3 {
		ip, err := n.allocate()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ip)
	}
	if got[0] != "10.9.0.2" || got[1] != "10.9.0.3" || got[2] != "10.9.0.4" {
		t.Fatalf("first addresses %v", got)
	}
	delete(n.used, "10.9.0.2") // a Pod went away
	for _, want := range []string{"10.9.0.5", "10.9.0.6", "10.9.0.2"} {
		ip, err := n.allocate()
		if err != nil {
			t.Fatal(err)
		}
		if ip != want {
			t.Fatalf("allocated %s, want %s", ip, want)
		}
	}
	if ip, err := n.allocate(); err == nil {
		t.Fatalf("allocated %s from a full range", ip)
	}
	n.Reserve("10.9.0.3") // already in use: still full
	delete(n.used, "10.9.0.4")
	if ip, err := n.allocate(); err != nil || ip != "10.9.0.4" {
		t.Fatalf("allocated %q, %v; want the one freed address", ip, err)
	}
}

// A Pod's namespace left by an orchestrator that was killed does not
// stop the Pod from being set up again.
func TestNetworkSetupReplacesAStaleNamespace(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("PKG_REQUIRE_RUNC") == "1" {
			t.Fatal("root is required here (PKG_REQUIRE_RUNC=1)")
		}
		t.Skip("network namespaces need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("iproute2's ip is not installed:", err)
	}
	ctx := context.Background()
	tag := strconv.Itoa(os.Getpid() % 100000)
	n := &Network{NS: "pkg-test-st" + tag, Bridge: "pkgst" + tag, CIDR: "10.251.0.0/24"}
	t.Cleanup(func() { _ = n.Remove(context.Background()) })
	uid := "5a1e0000-0000-4000-8000-" + fmt.Sprintf("%012d", os.Getpid())
	ns := NSName(uid)
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("making the stale namespace: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	path, ip, err := n.Setup(ctx, uid)
	if err != nil {
		t.Fatalf("setting up over a stale namespace: %v", err)
	}
	if out, err := exec.Command("ip", "-n", ns, "-br", "addr", "show", "eth0").CombinedOutput(); err != nil || !strings.Contains(string(out), ip+"/24") {
		t.Errorf("the new namespace %s has no eth0 with %s: %v %s", path, ip, err, out)
	}
	if err := n.Teardown(ctx, uid, ip); err != nil {
		t.Fatal(err)
	}
}

// The gateway's MAC address does not change as Pods come and go: a
// bridge left to itself takes its lowest port's address, and Pods would
// send replies to a gateway MAC that is gone until their ARP entries age.
func TestNetworkBridgeKeepsItsMAC(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("PKG_REQUIRE_RUNC") == "1" {
			t.Fatal("root is required here (PKG_REQUIRE_RUNC=1)")
		}
		t.Skip("network namespaces need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("iproute2's ip is not installed:", err)
	}
	ctx := context.Background()
	tag := strconv.Itoa(os.Getpid() % 100000)
	n := &Network{NS: "pkg-test-mac" + tag, Bridge: "pkgmac" + tag, CIDR: "10.252.0.0/24"}
	t.Cleanup(func() { _ = n.Remove(context.Background()) })
	mac := func() string {
		out, err := exec.Command("ip", "-n", n.NS, "-br", "link", "show", n.Bridge).CombinedOutput()
		if err != nil {
			t.Fatalf("%v %s", err, out)
		}
		f := strings.Fields(string(out))
		if len(f) < 3 {
			t.Fatalf("ip -br link: %q", out)
		}
		return f[2]
	}
	if err := n.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	want := mac()
	var uids, ips []string
	for i := range 3 {
		uid := fmt.Sprintf("3ac%05d-0000-4000-8000-%012d", i, os.Getpid())
		_, ip, err := n.Setup(ctx, uid)
		if err != nil {
			t.Fatal(err)
		}
		uids, ips = append(uids, uid), append(ips, ip)
		if got := mac(); got != want {
			t.Fatalf("after Pod %d joined, the bridge's MAC is %s, was %s", i, got, want)
		}
	}
	for i := range uids {
		if err := n.Teardown(ctx, uids[i], ips[i]); err != nil {
			t.Fatal(err)
		}
		if got := mac(); got != want {
			t.Fatalf("after Pod %d left, the bridge's MAC is %s, was %s", i, got, want)
		}
	}
}
