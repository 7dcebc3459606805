package node

import "testing"

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
