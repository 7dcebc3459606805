package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	goruntime "runtime"
	"strconv"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
)

// ErrNoPodNetwork: the Pod has no network namespace on this host (it is
// not running here, or the node runs without a cluster network).
var ErrNoPodNetwork = errors.New("no network namespace for the pod on this host")

// DialPod connects to port on the Pod's own localhost, from inside its
// network namespace, as the kubelet does for port-forward: a server that
// listens on 127.0.0.1 only in the Pod is reached too. A hostNetwork Pod
// is dialled on the host's loopback. IPv4 is tried first, then IPv6.
func DialPod(ctx context.Context, pod *corev1.Pod, port int32) (net.Conn, error) {
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("invalid port %d", port)
	}
	p := strconv.Itoa(int(port))
	dial := func() (net.Conn, error) {
		var d net.Dialer
		conn, err4 := d.DialContext(ctx, "tcp4", net.JoinHostPort("127.0.0.1", p))
		if err4 == nil {
			return conn, nil
		}
		conn, err6 := d.DialContext(ctx, "tcp6", net.JoinHostPort("::1", p))
		if err6 == nil {
			return conn, nil
		}
		return nil, fmt.Errorf("connecting to localhost:%s inside the pod: %w", p, err4)
	}
	if pod.Spec.HostNetwork {
		return dial()
	}
	path := "/var/run/netns/" + NSName(string(pod.UID))
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("pod %s/%s: %w (%s)", pod.Namespace, pod.Name, ErrNoPodNetwork, path)
	}
	var conn net.Conn
	err := inNetNS(path, func() error {
		var err error
		conn, err = dial()
		return err
	})
	return conn, err
}

// inNetNS runs f on a thread that has entered the network namespace at
// path; the thread is never returned to the scheduler, so nothing else
// runs in that namespace by accident. Sockets f opens stay in it.
func inNetNS(path string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		goruntime.LockOSThread()
		// No UnlockOSThread: the thread ends with this goroutine.
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("entering the network namespace %s: %w", path, err)
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("entering the network namespace %s: %w", path, err)
			return
		}
		errc <- f()
	}()
	return <-errc
}
