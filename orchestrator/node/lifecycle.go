package node

import (
	"context"
	"io"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"
)

// Defaults of the node lifecycle controller, kube-controller-manager's.
const (
	DefaultGracePeriod       = 40 * time.Second
	DefaultMonitorPeriod     = 5 * time.Second
	DefaultTolerationSeconds = 300
)

// Lifecycle marks nodes whose heartbeat stopped NotReady and unreachable,
// and evicts their Pods once the Pods' toleration of that runs out.
type Lifecycle struct {
	Client kubernetes.Interface
	// Grace is how long a Lease may go unrenewed; 0 means 40 s.
	Grace time.Duration
	// Period is how often nodes are checked; 0 means 5 s.
	Period time.Duration
	// DefaultToleration is how long a Pod without its own toleration of
	// the unreachable taint stays on an unreachable node; 0 means 300 s,
	// as the DefaultTolerationSeconds admission plugin gives every Pod.
	DefaultToleration time.Duration
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
	// Log receives what the controller does; nil discards it.
	Log *slog.Logger
}

func (l *Lifecycle) now() time.Time {
	if l.Clock != nil {
		return l.Clock()
	}
	return time.Now()
}

func (l *Lifecycle) log() *slog.Logger {
	if l.Log != nil {
		return l.Log
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// Run checks every node each period until ctx ends.
func (l *Lifecycle) Run(ctx context.Context) error {
	period := l.Period
	if period <= 0 {
		period = DefaultMonitorPeriod
	}
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		if err := l.check(ctx); err != nil && ctx.Err() == nil {
			l.log().Warn("checking nodes", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// check looks at every node once.
func (l *Lifecycle) check(ctx context.Context) error {
	nodes, err := l.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	grace := l.Grace
	if grace <= 0 {
		grace = DefaultGracePeriod
	}
	for i := range nodes.Items {
		n := &nodes.Items[i]
		lease, err := l.Client.CoordinationV1().Leases(LeaseNamespace).Get(ctx, n.Name, metav1.GetOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		// As the node lifecycle controller: the later of the Lease's
		// renewal and the Ready condition's heartbeat counts, so a node
		// that just registered is not unreachable before its agent made
		// its first Lease.
		fresh := err == nil && lease.Spec.RenewTime != nil && l.now().Sub(lease.Spec.RenewTime.Time) <= grace
		if hb := readyHeartbeat(n); !fresh && !hb.IsZero() && l.now().Sub(hb) <= grace {
			fresh = true
		}
		if fresh {
			if err := l.reachable(ctx, n); err != nil {
				l.log().Warn("marking node reachable", "node", n.Name, "err", err)
			}
			continue
		}
		if err := l.unreachable(ctx, n); err != nil {
			l.log().Warn("marking node unreachable", "node", n.Name, "err", err)
			continue
		}
		if err := l.evict(ctx, n); err != nil {
			l.log().Warn("evicting pods", "node", n.Name, "err", err)
		}
	}
	return nil
}

// readyHeartbeat is the last heartbeat of n's Ready condition when its
// agent posted it (Ready True or False, not the Unknown this controller
// sets); zero when there is none.
func readyHeartbeat(n *corev1.Node) time.Time {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady && c.Status != corev1.ConditionUnknown {
			return c.LastHeartbeatTime.Time
		}
	}
	return time.Time{}
}

// unreachable sets the node's conditions Unknown and taints it, once.
func (l *Lifecycle) unreachable(ctx context.Context, n *corev1.Node) error {
	now := metav1.NewTime(l.now())
	changed := false
	for i := range n.Status.Conditions {
		c := &n.Status.Conditions[i]
		if c.Status != corev1.ConditionUnknown {
			c.Status, c.Reason, c.Message, c.LastTransitionTime = corev1.ConditionUnknown, "NodeStatusUnknown", "Kubelet stopped posting node status.", now
			changed = true
		}
	}
	if changed {
		l.log().Info("node stopped heartbeating: NotReady", "node", n.Name)
		updated, err := l.Client.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
		if err != nil {
			return err
		}
		n = updated
	}
	want := []corev1.Taint{
		{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoSchedule},
		{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute, TimeAdded: &now},
	}
	add := false
	for _, t := range want {
		if !hasTaint(n.Spec.Taints, t) {
			n.Spec.Taints = append(n.Spec.Taints, t)
			add = true
		}
	}
	if add {
		if _, err := l.Client.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
			return err
		}
	}
	return nil
}

// reachable removes the unreachable taints of a node heartbeating again.
func (l *Lifecycle) reachable(ctx context.Context, n *corev1.Node) error {
	var keep []corev1.Taint
	for _, t := range n.Spec.Taints {
		if t.Key != corev1.TaintNodeUnreachable {
			keep = append(keep, t)
		}
	}
	if len(keep) == len(n.Spec.Taints) {
		return nil
	}
	n.Spec.Taints = keep
	_, err := l.Client.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{})
	if err == nil {
		l.log().Info("node heartbeating again", "node", n.Name)
	}
	return err
}

// evict deletes the node's Pods whose toleration of the NoExecute
// unreachable taint has run out, as the taint manager does.
func (l *Lifecycle) evict(ctx context.Context, n *corev1.Node) error {
	var added time.Time
	for _, t := range n.Spec.Taints {
		if t.Key == corev1.TaintNodeUnreachable && t.Effect == corev1.TaintEffectNoExecute && t.TimeAdded != nil {
			added = t.TimeAdded.Time
		}
	}
	if added.IsZero() {
		return nil
	}
	pods, err := l.Client.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("spec.nodeName", n.Name).String()})
	if err != nil {
		return err
	}
	def := l.DefaultToleration
	if def <= 0 {
		def = DefaultTolerationSeconds * time.Second
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.DeletionTimestamp != nil {
			continue
		}
		limit, forever := tolerationOf(p, def)
		if forever || l.now().Sub(added) < limit {
			continue
		}
		l.log().Info("evicting pod from unreachable node", "pod", p.Namespace+"/"+p.Name, "node", n.Name)
		if err := l.Client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}

// tolerationOf is how long a Pod tolerates the unreachable NoExecute
// taint: its own toleration's seconds (forever without), else def.
func tolerationOf(p *corev1.Pod, def time.Duration) (time.Duration, bool) {
	taint := corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute}
	for _, t := range p.Spec.Tolerations {
		if !t.ToleratesTaint(klog.Background(), &taint, true) {
			continue
		}
		if t.TolerationSeconds == nil {
			return 0, true
		}
		return time.Duration(*t.TolerationSeconds) * time.Second, false
	}
	return def, false
}
