package cli

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
)

const portForwardLong = `
Forward one or more local ports to a pod, as "kubectl port-forward" does.

The target is a pod (NAME or pod/NAME) or a resource that selects pods
(svc/NAME, deploy/NAME, rs/NAME, sts/NAME, ds/NAME, job/NAME): the first
running pod it selects is used. A port is [LOCAL_PORT:]REMOTE_PORT; an
empty or 0 local port picks a free one. For a service, REMOTE_PORT is the
service's port (number or name) and is forwarded to its targetPort on the
pod; for the others it is a container port, or a container port's name.

It works against any cluster the kubeconfig names: the bundled one, or a
real Kubernetes cluster. It runs until interrupted, or until the
connection to the pod is lost.

Examples:

    # Listen on 8080 locally, forwarding to 80 in the pod
    pkg port-forward pod/web 8080:80

    # Listen on a random local port, forwarding to the service's port "http"
    pkg port-forward svc/web :http

    # Listen on all addresses
    pkg port-forward --address 0.0.0.0 deploy/web 8080:8080
`

// portForwardOptions are the flags of port-forward.
type portForwardOptions struct {
	addresses  []string
	podTimeout time.Duration
}

func newPortForwardCmd(env Env, g *globalOptions) *cobra.Command {
	o := &portForwardOptions{}
	cmd := &cobra.Command{
		Use:   "port-forward TYPE/NAME [LOCAL_PORT:]REMOTE_PORT [...[LOCAL_PORT_N:]REMOTE_PORT_N]",
		Short: "forward local ports to a pod",
		Long:  portForwardLong,
		Args:  minimumArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			specs, err := parsePortSpecs(args[1:])
			if err != nil {
				return usageError(cmd, "%v", err)
			}
			conn, err := g.connect(cmd.Context(), env)
			if err != nil {
				return err
			}
			return o.run(cmd.Context(), env, conn, args[0], specs)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.addresses, "address", []string{"localhost"}, "addresses to listen on (comma separated); localhost and IP addresses only")
	f.DurationVar(&o.podTimeout, "pod-running-timeout", time.Minute, "how long to wait for a running pod")
	return cmd
}

// portSpec is one [LOCAL:]REMOTE argument; remote is a number or a name.
type portSpec struct {
	local  uint16
	remote string
}

// parsePortSpecs reads the port arguments: PORT, LOCAL:REMOTE or
// :REMOTE, REMOTE a number or a port's name.
func parsePortSpecs(args []string) ([]portSpec, error) {
	digits := func(v string) bool { return v != "" && strings.Trim(v, "0123456789") == "" }
	var specs []portSpec
	for _, a := range args {
		local, remote, found := strings.Cut(a, ":")
		if !found {
			if !digits(a) {
				return nil, fmt.Errorf("port %q: a port alone must be a number; give a named port as LOCAL_PORT:NAME", a)
			}
			local, remote = a, a
		}
		var s portSpec
		if local != "" {
			n, err := strconv.ParseUint(local, 10, 16)
			if err != nil {
				return nil, fmt.Errorf("port %q: local port %q is not a number from 0 to 65535", a, local)
			}
			s.local = uint16(n)
		}
		if remote == "" || strings.Contains(remote, ":") {
			return nil, fmt.Errorf("port %q: want [LOCAL_PORT:]REMOTE_PORT", a)
		}
		if digits(remote) {
			if n, err := strconv.ParseUint(remote, 10, 16); err != nil || n == 0 {
				return nil, fmt.Errorf("port %q: remote port %q is not a number from 1 to 65535", a, remote)
			}
		}
		s.remote = remote
		specs = append(specs, s)
	}
	return specs, nil
}

// run resolves the target to a running pod, the ports to the pod's, and
// forwards until ctx ends or the connection is lost.
func (o *portForwardOptions) run(ctx context.Context, env Env, conn *connection, target string, specs []portSpec) error {
	cs, err := kubernetes.NewForConfig(conn.config)
	if err != nil {
		return err
	}
	pod, svc, err := o.targetPod(ctx, cs, conn.namespace, target)
	if err != nil {
		return err
	}
	var ports []string
	for _, s := range specs {
		remote, err := remotePort(pod, svc, s.remote)
		if err != nil {
			return err
		}
		ports = append(ports, fmt.Sprintf("%d:%d", s.local, remote))
	}
	dialer, err := podPortForwardDialer(conn.config, cs, pod)
	if err != nil {
		return err
	}
	stop := make(chan struct{})
	go func() {
		<-ctx.Done()
		close(stop)
	}()
	fw, err := portforward.NewOnAddresses(dialer, o.addresses, ports, stop, nil, env.Streams.Out, env.Streams.Err)
	if err != nil {
		return err
	}
	if err := fw.ForwardPorts(); err != nil {
		return fmt.Errorf("forwarding to pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

// podPortForwardDialer dials pods/NAME/portforward as kubectl does: SPDY
// tunnelled in a websocket first, plain SPDY when the server refuses the
// websocket.
func podPortForwardDialer(cfg *rest.Config, cs kubernetes.Interface, pod *corev1.Pod) (httpstream.Dialer, error) {
	u := cs.CoreV1().RESTClient().Post().Resource("pods").Namespace(pod.Namespace).Name(pod.Name).SubResource("portforward").URL()
	transport, upgrader, err := spdy.RoundTripperFor(cfg)
	if err != nil {
		return nil, err
	}
	plain := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, u)
	tunnel, err := portforward.NewSPDYOverWebsocketDialer(u, cfg)
	if err != nil {
		return nil, err
	}
	return portforward.NewFallbackDialer(tunnel, plain, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	}), nil
}

// targetPod resolves TYPE/NAME to a running pod, waiting up to the
// pod-running timeout; for a service it returns the service too.
func (o *portForwardOptions) targetPod(ctx context.Context, cs kubernetes.Interface, ns, target string) (*corev1.Pod, *corev1.Service, error) {
	kind, name, found := strings.Cut(target, "/")
	if !found {
		kind, name = "pod", target
	}
	if name == "" {
		return nil, nil, fmt.Errorf("%q: want TYPE/NAME, as pod/web or svc/web", target)
	}
	ctx, cancel := context.WithTimeout(ctx, o.podTimeout)
	defer cancel()
	var (
		selector labels.Selector
		svc      *corev1.Service
		err      error
	)
	switch strings.ToLower(kind) {
	case "pod", "pods", "po":
		for {
			pod, err := cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return nil, nil, waitError(ctx, err)
			}
			if pod.Status.Phase == corev1.PodRunning {
				return pod, nil, nil
			}
			if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
				return nil, nil, fmt.Errorf("unable to forward port because pod is not running. Current status=%s", pod.Status.Phase)
			}
			if err := sleepCtx(ctx, 500*time.Millisecond); err != nil {
				return nil, nil, fmt.Errorf("unable to forward port because pod is not running. Current status=%s", pod.Status.Phase)
			}
		}
	case "svc", "service", "services":
		svc, err = cs.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, nil, err
		}
		if len(svc.Spec.Selector) == 0 {
			return nil, nil, fmt.Errorf("service %s/%s has no selector: it names no pods to forward to", ns, name)
		}
		selector = labels.SelectorFromSet(svc.Spec.Selector)
	case "deploy", "deployment", "deployments":
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, nil, err
		}
		selector, err = metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err != nil {
			return nil, nil, fmt.Errorf("deployment %s/%s: %w", ns, name, err)
		}
	case "rs", "replicaset", "replicasets":
		rs, err := cs.AppsV1().ReplicaSets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, nil, err
		}
		selector, err = metav1.LabelSelectorAsSelector(rs.Spec.Selector)
		if err != nil {
			return nil, nil, fmt.Errorf("replicaset %s/%s: %w", ns, name, err)
		}
	case "sts", "statefulset", "statefulsets":
		sts, err := cs.AppsV1().StatefulSets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, nil, err
		}
		selector, err = metav1.LabelSelectorAsSelector(sts.Spec.Selector)
		if err != nil {
			return nil, nil, fmt.Errorf("statefulset %s/%s: %w", ns, name, err)
		}
	case "ds", "daemonset", "daemonsets":
		ds, err := cs.AppsV1().DaemonSets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, nil, err
		}
		selector, err = metav1.LabelSelectorAsSelector(ds.Spec.Selector)
		if err != nil {
			return nil, nil, fmt.Errorf("daemonset %s/%s: %w", ns, name, err)
		}
	case "job", "jobs":
		job, err := cs.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, nil, err
		}
		selector, err = metav1.LabelSelectorAsSelector(job.Spec.Selector)
		if err != nil {
			return nil, nil, fmt.Errorf("job %s/%s: %w", ns, name, err)
		}
	default:
		return nil, nil, fmt.Errorf("cannot forward to %q: the type must be pod, svc, deploy, rs, sts, ds or job", kind)
	}
	for {
		list, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector.String()})
		if err != nil {
			return nil, nil, waitError(ctx, err)
		}
		if pod := bestPod(list.Items); pod != nil {
			return pod, svc, nil
		}
		if err := sleepCtx(ctx, 500*time.Millisecond); err != nil {
			return nil, nil, fmt.Errorf("timed out waiting for a running pod of %s (selector %s)", target, selector)
		}
	}
}

// bestPod picks the pod kubectl would among those a selector matched:
// running ones only, ready before not ready, then the oldest.
func bestPod(pods []corev1.Pod) *corev1.Pod {
	var running []corev1.Pod
	for _, p := range pods {
		if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
			running = append(running, p)
		}
	}
	if len(running) == 0 {
		return nil
	}
	sort.SliceStable(running, func(i, j int) bool {
		ri, rj := podReady(&running[i]), podReady(&running[j])
		if ri != rj {
			return ri
		}
		return running[i].CreationTimestamp.Before(&running[j].CreationTimestamp)
	})
	return &running[0]
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// remotePort resolves a REMOTE_PORT argument to the pod's port: through
// the service's port and targetPort for a service, else as a number or a
// container port's name.
func remotePort(pod *corev1.Pod, svc *corev1.Service, remote string) (int32, error) {
	if svc != nil {
		for _, sp := range svc.Spec.Ports {
			if remote != sp.Name && remote != strconv.Itoa(int(sp.Port)) {
				continue
			}
			switch {
			case sp.TargetPort.Type == intstr.String:
				return containerPort(pod, sp.TargetPort.StrVal)
			case sp.TargetPort.IntVal == 0:
				return sp.Port, nil
			default:
				return sp.TargetPort.IntVal, nil
			}
		}
		return 0, fmt.Errorf("service %s does not have a service port %s", svc.Name, remote)
	}
	if n, err := strconv.ParseUint(remote, 10, 16); err == nil {
		return int32(n), nil
	}
	return containerPort(pod, remote)
}

// containerPort finds the number of a named container port in pod.
func containerPort(pod *corev1.Pod, name string) (int32, error) {
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			if p.Name == name {
				return p.ContainerPort, nil
			}
		}
	}
	return 0, fmt.Errorf("pod %s does not have a named port %q", pod.Name, name)
}

// waitError turns the error of a read interrupted by the timeout into
// what the user waited for.
func waitError(ctx context.Context, err error) error {
	if ctx.Err() != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("timed out waiting for a running pod: %w", err)
	}
	return err
}

// sleepCtx waits d, or less when ctx ends first (then returns its error).
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
