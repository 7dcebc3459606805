package runtime

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestOCISpecNetworkNamespace(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		cs       ContainerSpec
		want     bool
		wantPath string
	}{
		{"own", ContainerSpec{}, true, ""},
		{"pod's", ContainerSpec{NetNS: "/var/run/netns/p"}, true, "/var/run/netns/p"},
		{"host's", ContainerSpec{NetNS: "/var/run/netns/p", HostNetwork: true}, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got *specs.LinuxNamespace
			for _, ns := range ociSpec("c", tc.cs).Linux.Namespaces {
				if ns.Type == specs.NetworkNamespace {
					got = &ns
				}
			}
			if (got != nil) != tc.want || (got != nil && got.Path != tc.wantPath) {
				t.Errorf("network namespace %+v, want present=%v path %q", got, tc.want, tc.wantPath)
			}
		})
	}
}
