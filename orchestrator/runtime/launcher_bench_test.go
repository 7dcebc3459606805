package runtime

import (
	"context"
	"fmt"
	"os"
	"testing"
)

// BenchmarkContainerStart measures starting a container until its
// command runs, then waiting for its exit and removing it, with each
// driver on the same rootfs:
//
//	go test -run '^$' -bench ContainerStart -benchtime 50x ./orchestrator/runtime
func BenchmarkContainerStart(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("skipping: starting containers needs root")
	}
	for _, name := range []string{RuntimeRunc, RuntimeBuiltin} {
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			d, _, err := NewDriver(name, dir, nil)
			if err != nil {
				b.Skipf("skipping: %v", err)
			}
			root := rootfs(b)
			ctx := context.Background()
			b.ResetTimer()
			for i := range b.N {
				id := fmt.Sprintf("bench-%s-%d", name, i)
				if err := d.Start(ctx, id, ContainerSpec{Rootfs: root, Args: []string{"/testapp", "-exit", "0"}, Resources: Resources{MemoryLimit: 64 << 20}}); err != nil {
					b.Fatal(err)
				}
				if st, err := d.Wait(ctx, id); err != nil || st.Code != 0 {
					b.Fatalf("exit %+v, %v", st, err)
				}
				if err := d.Remove(ctx, id); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
