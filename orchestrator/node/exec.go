package node

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"pkg.dev/pkg/orchestrator/runtime"
)

// ErrContainerNotRunning: exec asked for a container that does not run.
var ErrContainerNotRunning = errors.New("container is not running")

// ExecInPod runs a command in a running container of pod, on the node
// whose files are under nodeDir (its runc state in nodeDir/runc, as the
// node agent keeps it), as `kubectl exec` asks through pods/exec. It
// returns the command's exit code.
func ExecInPod(ctx context.Context, nodeDir string, pod *corev1.Pod, container string, o runtime.ExecOptions) (int, error) {
	id := ""
	for _, st := range append(append([]corev1.ContainerStatus(nil), pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...) {
		if st.Name != container {
			continue
		}
		if st.State.Running == nil {
			return -1, fmt.Errorf("container %s of pod %s/%s: %w", container, pod.Namespace, pod.Name, ErrContainerNotRunning)
		}
		rt, cid, ok := strings.Cut(st.ContainerID, "://")
		if !ok || rt != "runc" {
			return -1, fmt.Errorf("container %s of pod %s/%s runs on %q, which has no exec", container, pod.Namespace, pod.Name, rt)
		}
		id = cid
	}
	if id == "" {
		return -1, fmt.Errorf("container %s of pod %s/%s: %w", container, pod.Namespace, pod.Name, ErrContainerNotRunning)
	}
	drv, err := runtime.NewRuncDriver(filepath.Join(nodeDir, "runc"), "", nil)
	if err != nil {
		return -1, err
	}
	return drv.ExecStream(ctx, id, o)
}
