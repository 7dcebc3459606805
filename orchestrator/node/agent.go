package node

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// LeaseNamespace holds the nodes' heartbeat Leases.
const LeaseNamespace = "kube-node-lease"

// Timings of the heartbeat, as the kubelet's defaults.
const (
	LeaseDuration  = 40 * time.Second
	RenewInterval  = 10 * time.Second
	StatusInterval = time.Minute
)

// Config describes one virtual node.
type Config struct {
	// Name is the Node's name.
	Name string
	// Labels are added to the standard ones (hostname, os, arch).
	Labels map[string]string
	// Taints are the node's taints.
	Taints []corev1.Taint
	// CPU, Memory and Pods are the node's capacity; allocatable is the
	// same (the orchestrator reserves nothing).
	CPU    resource.Quantity
	Memory resource.Quantity
	Pods   int64
	// Address is the node's InternalIP.
	Address string
	// Runtime names the node's container runtime ("runc", "builtin"),
	// reported as the Node's containerRuntimeVersion; "" reports "none".
	Runtime string
}

func (c Config) runtimeVersion() string {
	if c.Runtime == "" {
		return "none"
	}
	return c.Runtime
}

// ConfigTaintsAnnotation records on a Node the taints its Config gave it
// (a JSON list), so that a restart with other taints removes those the
// Config no longer has while keeping the ones others added.
const ConfigTaintsAnnotation = "node.pkg.dev/config-taints"

// configTaints reads ConfigTaintsAnnotation; nil when absent or unreadable.
func configTaints(annotations map[string]string) []corev1.Taint {
	var ts []corev1.Taint
	if s, ok := annotations[ConfigTaintsAnnotation]; ok {
		if err := json.Unmarshal([]byte(s), &ts); err != nil {
			return nil
		}
	}
	return ts
}

// setConfigTaints records ts in ConfigTaintsAnnotation of m, or removes
// it when ts is empty; it returns m, made when nil.
func setConfigTaints(m map[string]string, ts []corev1.Taint) map[string]string {
	if len(ts) == 0 {
		delete(m, ConfigTaintsAnnotation)
		return m
	}
	b, _ := json.Marshal(ts)
	if m == nil {
		m = map[string]string{}
	}
	m[ConfigTaintsAnnotation] = string(b)
	return m
}

// Agent keeps one virtual node registered and alive.
type Agent struct {
	Config Config
	Client kubernetes.Interface
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
	// Log receives what the agent does; nil discards it.
	Log *slog.Logger
	// RenewEvery overrides RenewInterval (tests).
	RenewEvery time.Duration
}

func (a *Agent) now() time.Time {
	if a.Clock != nil {
		return a.Clock()
	}
	return time.Now()
}

func (a *Agent) log() *slog.Logger {
	if a.Log != nil {
		return a.Log
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// node builds the Node object as the kubelet registers it.
func (a *Agent) node() *corev1.Node {
	c := a.Config
	labels := map[string]string{
		"kubernetes.io/hostname":  c.Name,
		"kubernetes.io/os":        runtime.GOOS,
		"kubernetes.io/arch":      runtime.GOARCH,
		"beta.kubernetes.io/os":   runtime.GOOS,
		"beta.kubernetes.io/arch": runtime.GOARCH,
	}
	for k, v := range c.Labels {
		labels[k] = v
	}
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    c.CPU,
		corev1.ResourceMemory: c.Memory,
		corev1.ResourcePods:   *resource.NewQuantity(c.Pods, resource.DecimalSI),
	}
	now := metav1.NewTime(a.now())
	addr := c.Address
	if addr == "" {
		addr = "127.0.0.1"
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: c.Name, Labels: labels, Annotations: setConfigTaints(nil, c.Taints)},
		Spec:       corev1.NodeSpec{Taints: c.Taints},
		Status: corev1.NodeStatus{
			Capacity:    capacity,
			Allocatable: capacity.DeepCopy(),
			Phase:       corev1.NodeRunning,
			Conditions:  readyConditions(now),
			Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeInternalIP, Address: addr},
				{Type: corev1.NodeHostName, Address: c.Name},
			},
			NodeInfo: corev1.NodeSystemInfo{
				OperatingSystem: runtime.GOOS, Architecture: runtime.GOARCH,
				KubeletVersion: "v1.37.0-pkg", ContainerRuntimeVersion: c.runtimeVersion(),
			},
		},
	}
}

// readyConditions are a healthy node's conditions, as the kubelet reports
// them.
func readyConditions(now metav1.Time) []corev1.NodeCondition {
	cond := func(t corev1.NodeConditionType, s corev1.ConditionStatus, reason, msg string) corev1.NodeCondition {
		return corev1.NodeCondition{Type: t, Status: s, Reason: reason, Message: msg, LastHeartbeatTime: now, LastTransitionTime: now}
	}
	return []corev1.NodeCondition{
		cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
		cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
		cond(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
		cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "kubelet is posting ready status"),
	}
}

// Register creates the Node, or brings an existing one (a restart) back
// to Ready with the configured labels, capacity and taints: of its
// taints, it keeps those added by others except the unreachable and
// not-ready ones, drops those an earlier Config gave it, and adds the
// Config's (which replace any of the same key and effect).
func (a *Agent) Register(ctx context.Context) error {
	want := a.node()
	nodes := a.Client.CoreV1().Nodes()
	if _, err := nodes.Create(ctx, want, metav1.CreateOptions{}); err == nil {
		a.log().Info("node registered", "node", want.Name)
		return nil
	} else if !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("registering node %s: %w", want.Name, err)
	}
	// The node lifecycle controller may write the node meanwhile (its
	// taints, its conditions): a conflict reads it again.
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		cur, err := nodes.Get(ctx, want.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		cur.Labels = want.Labels
		before := configTaints(cur.Annotations)
		var taints []corev1.Taint
		for _, t := range cur.Spec.Taints {
			if t.Key != corev1.TaintNodeUnreachable && t.Key != corev1.TaintNodeNotReady &&
				!hasTaint(before, t) && !hasTaint(want.Spec.Taints, t) {
				taints = append(taints, t)
			}
		}
		cur.Spec.Taints = append(taints, want.Spec.Taints...)
		cur.Annotations = setConfigTaints(cur.Annotations, want.Spec.Taints)
		if cur, err = nodes.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
			return err
		}
		cur.Status = want.Status
		_, err = nodes.UpdateStatus(ctx, cur, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("registering node %s: %w", want.Name, err)
	}
	a.log().Info("node re-registered", "node", want.Name)
	return nil
}

func hasTaint(ts []corev1.Taint, t corev1.Taint) bool {
	for _, x := range ts {
		if x.Key == t.Key && x.Effect == t.Effect {
			return true
		}
	}
	return false
}

// registerRetry is how long Run waits before registering again after a
// failure (the API server restarting, say).
const registerRetry = time.Second

// Run registers the node and heartbeats until ctx ends. A registration
// that fails is tried again: a node agent that gave up would leave its
// node unreachable for good.
func (a *Agent) Run(ctx context.Context) error {
	for {
		err := a.Register(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return err
		}
		a.log().Warn("registering the node; trying again", "node", a.Config.Name, "err", err, "in", registerRetry)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(registerRetry):
		}
	}
	every := a.RenewEvery
	if every <= 0 {
		every = RenewInterval
	}
	lastStatus := a.now()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := a.renew(ctx); err != nil && ctx.Err() == nil {
			a.log().Warn("renewing node lease", "node", a.Config.Name, "err", err)
		}
		// The status is posted every StatusInterval, and at once when the
		// lifecycle controller marked the node Unknown while this agent
		// was alive (a heartbeat that came late), as the kubelet posts a
		// status that differs from its own.
		if a.now().Sub(lastStatus) >= StatusInterval || a.markedUnknown(ctx) {
			if err := a.heartbeatStatus(ctx); err != nil && ctx.Err() == nil {
				a.log().Warn("updating node status", "node", a.Config.Name, "err", err)
			} else {
				lastStatus = a.now()
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// markedUnknown tells whether the node's Ready condition is not what
// this agent posts (True), as after the lifecycle controller marked it
// Unknown.
func (a *Agent) markedUnknown(ctx context.Context) bool {
	n, err := a.Client.CoreV1().Nodes().Get(ctx, a.Config.Name, metav1.GetOptions{})
	if err != nil {
		return apierrors.IsNotFound(err)
	}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionUnknown
		}
	}
	return true
}

// renew creates or renews the node's Lease.
func (a *Agent) renew(ctx context.Context) error {
	leases := a.Client.CoordinationV1().Leases(LeaseNamespace)
	now := metav1.NewMicroTime(a.now())
	secs := int32(LeaseDuration / time.Second)
	name := a.Config.Name
	l, err := leases.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = leases.Create(ctx, &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: coordinationv1.LeaseSpec{
				HolderIdentity: &name, LeaseDurationSeconds: &secs, RenewTime: &now,
			},
		}, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	l.Spec.HolderIdentity, l.Spec.LeaseDurationSeconds, l.Spec.RenewTime = &name, &secs, &now
	_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
	return err
}

// heartbeatStatus refreshes the Ready condition's heartbeat time, turning
// the node Ready again if the lifecycle controller had marked it Unknown.
func (a *Agent) heartbeatStatus(ctx context.Context) error {
	nodes := a.Client.CoreV1().Nodes()
	cur, err := nodes.Get(ctx, a.Config.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return a.Register(ctx)
	}
	if err != nil {
		return err
	}
	now := metav1.NewTime(a.now())
	fresh := readyConditions(now)
	for i := range fresh {
		for _, old := range cur.Status.Conditions {
			if old.Type == fresh[i].Type && old.Status == fresh[i].Status {
				fresh[i].LastTransitionTime = old.LastTransitionTime
			}
			// Memory pressure is the eviction manager's to clear.
			if old.Type == corev1.NodeMemoryPressure && fresh[i].Type == old.Type && old.Status == corev1.ConditionTrue {
				fresh[i] = old
				fresh[i].LastHeartbeatTime = now
			}
		}
	}
	cur.Status.Conditions = fresh
	_, err = nodes.UpdateStatus(ctx, cur, metav1.UpdateOptions{})
	return err
}
