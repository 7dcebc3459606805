package cluster

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestDNSUpstreams(t *testing.T) {
	rc := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(rc, []byte("# systemd-resolved\nnameserver 127.0.0.53\nnameserver fe80::1%eth0\nsearch example.org\noptions edns0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := dnsUpstreams([]string{"1.1.1.1", "9.9.9.9:5353", "2001:db8::53", "[2001:db8::54]:53", "host"}, rc)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"1.1.1.1:53", "9.9.9.9:5353", "[2001:db8::53]:53", "[2001:db8::54]:53", "127.0.0.53:53", "[fe80::1%eth0]:53"}
	if !slices.Equal(got, want) {
		t.Errorf("upstreams = %q, want %q", got, want)
	}
	for _, bad := range []string{"dns.google", "1.1.1.1:0", "1.1.1.1:dns", "300.1.1.1"} {
		if _, err := dnsUpstreams([]string{bad}, rc); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("%q: err %v, want one naming the value", bad, err)
		}
	}
	empty := filepath.Join(t.TempDir(), "empty.conf")
	if err := os.WriteFile(empty, []byte("search x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := dnsUpstreams([]string{"host"}, empty); err == nil || !strings.Contains(err.Error(), "no nameserver") {
		t.Errorf("host with no nameserver: %v", err)
	}
}
