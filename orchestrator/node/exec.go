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
// whose files are under nodeDir (the runtime's state in nodeDir/runc or
// nodeDir/builtin, as the node agent keeps it), as `kubectl exec` asks through pods/exec. It
// returns the command's exit code.
func ExecInPod(ctx context.Context, nodeDir string, pod *corev1.Pod, container string, o runtime.ExecOptions) (int, error) {
	id, rt := "", ""
	for _, st := range append(append([]corev1.ContainerStatus(nil), pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...) {
		if st.Name != container {
			continue
		}
		if st.State.Running == nil {
			return -1, fmt.Errorf("container %s of pod %s/%s: %w", container, pod.Namespace, pod.Name, ErrContainerNotRunning)
		}
		name, cid, ok := strings.Cut(st.ContainerID, "://")
		if !ok || (name != runtime.RuntimeRunc && name != runtime.RuntimeBuiltin) {
			return -1, fmt.Errorf("container %s of pod %s/%s runs on %q, which has no exec", container, pod.Namespace, pod.Name, name)
		}
		id, rt = cid, name
	}
	if id == "" {
		return -1, fmt.Errorf("container %s of pod %s/%s: %w", container, pod.Namespace, pod.Name, ErrContainerNotRunning)
	}
	// The driver's files where the node agent keeps them (runtime.NewDriver).
	var drv runtime.ExecStreamer
	var err error
	if rt == runtime.RuntimeBuiltin {
		drv, err = runtime.NewLauncherDriver(filepath.Join(nodeDir, "builtin"), nil)
	} else {
		drv, err = runtime.NewRuncDriver(filepath.Join(nodeDir, "runc"), "", nil)
	}
	if err != nil {
		return -1, err
	}
	return drv.ExecStream(ctx, id, o)
}
