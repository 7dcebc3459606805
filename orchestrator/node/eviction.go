package node

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
)

// Defaults of Eviction, the kubelet's.
const (
	// DefaultMemoryAvailable is the hard eviction threshold
	// memory.available<100Mi.
	DefaultMemoryAvailable = 100 << 20
	// DefaultEvictionPeriod is how often memory is measured (the
	// kubelet's housekeeping interval).
	DefaultEvictionPeriod = 10 * time.Second
	// DefaultPressureTransition is how long MemoryPressure stays True
	// after memory is available again (evictionPressureTransitionPeriod).
	DefaultPressureTransition = 5 * time.Minute
)

// TaintMemoryPressure is the taint of a node under memory pressure.
const TaintMemoryPressure = "node.kubernetes.io/memory-pressure"

// Eviction configures a node's memory-pressure eviction, as the kubelet's
// eviction manager with its hard threshold memory.available<100Mi: when
// the node's available memory falls under the threshold, its Node gets
// the MemoryPressure condition and the memory-pressure NoSchedule taint,
// and its Pods are evicted one at a time until memory is available again.
type Eviction struct {
	// NodeMemory is the node's memory capacity, in bytes; required.
	NodeMemory int64
	// MemoryAvailable is the threshold in bytes; 0 means 100Mi. Tests
	// set it close to NodeMemory to put the node under pressure with
	// little memory used.
	MemoryAvailable int64
	// Period is how often memory is measured; 0 means 10 s.
	Period time.Duration
	// Transition is how long MemoryPressure stays after the last time
	// the threshold was crossed; 0 means 5 minutes.
	Transition time.Duration
	// CgroupRoot is where the cgroup filesystem is mounted; "" means
	// /sys/fs/cgroup.
	CgroupRoot string

	// override is a threshold set while running (SetMemoryAvailable).
	override atomic.Int64
}

// SetMemoryAvailable changes the threshold of a running eviction manager
// (tests put a node under pressure once its Pods run).
func (e *Eviction) SetMemoryAvailable(bytes int64) { e.override.Store(bytes) }

// threshold is the current threshold in bytes.
func (e *Eviction) threshold() int64 {
	if v := e.override.Load(); v > 0 {
		return v
	}
	if e.MemoryAvailable > 0 {
		return e.MemoryAvailable
	}
	return DefaultMemoryAvailable
}

// podMemory is one Pod's measured memory, for ranking.
type podMemory struct {
	w        *podWorker
	usage    int64
	request  int64
	priority int32
	biggest  string // the container using the most memory
	bigUsage int64
	bigReq   int64
}

// available is the node's available memory: its capacity less the working
// sets of its Pods' containers (read from their cgroups), and never more
// than the host has available.
func (r *PodRunner) available(ws []*podWorker) (int64, []podMemory) {
	ev := r.Eviction
	root := ev.CgroupRoot
	if root == "" {
		root = "/sys/fs/cgroup"
	}
	var used int64
	var pods []podMemory
	for _, w := range ws {
		pm := podMemory{w: w}
		if w.pod.Spec.Priority != nil {
			pm.priority = *w.pod.Spec.Priority
		}
		for _, c := range w.ctrs {
			w.mu.Lock()
			running := c.state.Running != nil
			w.mu.Unlock()
			req := c.spec.Resources.Requests[corev1.ResourceMemory]
			if !c.init {
				pm.request += req.Value()
			}
			if !running {
				continue
			}
			st, err := readCgroupStats(root, "/pkg/"+c.id)
			if err != nil {
				continue
			}
			pm.usage += st.workingSet
			if st.workingSet > pm.bigUsage {
				pm.biggest, pm.bigUsage, pm.bigReq = c.spec.Name, st.workingSet, req.Value()
			}
		}
		used += pm.usage
		pods = append(pods, pm)
	}
	avail := ev.NodeMemory - used
	if host, ok := hostAvailable(); ok && host < avail {
		avail = host
	}
	return avail, pods
}

// hostAvailable reads MemAvailable from /proc/meminfo.
func hostAvailable() (int64, bool) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemAvailable:" {
			kib, err := strconv.ParseInt(fields[1], 10, 64)
			return kib * 1024, err == nil
		}
	}
	return 0, false
}

// rankForEviction orders Pods as the kubelet does under memory pressure:
// first those using more memory than they request (so every BestEffort
// Pod using any, and Burstable Pods over their requests), then by
// priority, lowest first, then by how far usage exceeds the request,
// most first. Guaranteed Pods, whose usage cannot exceed their requests,
// come last.
func rankForEviction(pods []podMemory) {
	sort.SliceStable(pods, func(i, j int) bool {
		a, b := pods[i], pods[j]
		ea, eb := a.usage > a.request, b.usage > b.request
		if ea != eb {
			return ea
		}
		if a.priority != b.priority {
			return a.priority < b.priority
		}
		return a.usage-a.request > b.usage-b.request
	})
}

// runEviction measures the node's memory every period, keeps its
// MemoryPressure condition and taint, and evicts a Pod each time the
// available memory is under the threshold.
func (r *PodRunner) runEviction(ctx context.Context) {
	ev := r.Eviction
	period := ev.Period
	if period <= 0 {
		period = DefaultEvictionPeriod
	}
	transition := ev.Transition
	if transition <= 0 {
		transition = DefaultPressureTransition
	}
	var lastPressure time.Time
	pressure := false
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		r.mu.Lock()
		ws := make([]*podWorker, 0, len(r.workers))
		for _, w := range r.workers {
			if !w.stopping() {
				ws = append(ws, w)
			}
		}
		r.mu.Unlock()
		avail, pods := r.available(ws)
		threshold := ev.threshold()
		under := avail < threshold
		if under {
			lastPressure = r.now()
		}
		want := under || (pressure && r.now().Sub(lastPressure) < transition)
		if want != pressure {
			if err := r.setMemoryPressure(ctx, want); err != nil {
				r.log().Warn("setting the node's MemoryPressure", "node", r.Node, "err", err)
			} else {
				pressure = want
				r.log().Info("memory pressure", "node", r.Node, "pressure", want, "available", avail, "threshold", threshold)
			}
		}
		if !under || len(pods) == 0 {
			continue
		}
		rankForEviction(pods)
		victim := pods[0]
		msg := fmt.Sprintf("The node was low on resource: memory. Threshold quantity: %s, available: %s. ",
			quantity(threshold), quantity(avail/1024*1024))
		if victim.biggest != "" {
			msg += fmt.Sprintf("Container %s was using %s, request is %s, has larger consumption of memory. ",
				victim.biggest, quantity(victim.bigUsage/1024*1024), quantity(victim.bigReq))
		}
		r.log().Info("evicting pod for memory pressure", "pod", victim.w.key(), "usage", victim.usage, "request", victim.request)
		victim.w.evict(ctx, strings.TrimSpace(msg))
		// As the kubelet: the next eviction waits until this Pod's
		// memory was given back.
		select {
		case <-victim.w.done:
		case <-ctx.Done():
			return
		}
	}
}

func quantity(b int64) string {
	return resource.NewQuantity(b, resource.BinarySI).String()
}

// setMemoryPressure writes the node's MemoryPressure condition and its
// memory-pressure taint, as the kubelet and the node lifecycle
// controller do.
func (r *PodRunner) setMemoryPressure(ctx context.Context, on bool) error {
	nodes := r.Client.CoreV1().Nodes()
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n, err := nodes.Get(ctx, r.Node, metav1.GetOptions{})
		if err != nil {
			return err
		}
		now := metav1.NewTime(r.now())
		c := corev1.NodeCondition{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse,
			Reason: "KubeletHasSufficientMemory", Message: "kubelet has sufficient memory available",
			LastHeartbeatTime: now, LastTransitionTime: now}
		if on {
			c.Status, c.Reason, c.Message = corev1.ConditionTrue, "KubeletHasInsufficientMemory", "kubelet has insufficient memory available"
		}
		found := false
		for i := range n.Status.Conditions {
			if n.Status.Conditions[i].Type == corev1.NodeMemoryPressure {
				n.Status.Conditions[i], found = c, true
			}
		}
		if !found {
			n.Status.Conditions = append(n.Status.Conditions, c)
		}
		n, err = nodes.UpdateStatus(ctx, n, metav1.UpdateOptions{})
		if err != nil {
			return err
		}
		taint := corev1.Taint{Key: TaintMemoryPressure, Effect: corev1.TaintEffectNoSchedule}
		has := hasTaint(n.Spec.Taints, taint)
		switch {
		case on && !has:
			added := metav1.NewTime(r.now())
			taint.TimeAdded = &added
			n.Spec.Taints = append(n.Spec.Taints, taint)
		case !on && has:
			var keep []corev1.Taint
			for _, t := range n.Spec.Taints {
				if t.Key != TaintMemoryPressure {
					keep = append(keep, t)
				}
			}
			n.Spec.Taints = keep
		default:
			return nil
		}
		_, err = nodes.Update(ctx, n, metav1.UpdateOptions{})
		return err
	})
}

// evict stops the Pod for memory pressure as the kubelet does: its
// containers are killed, its phase set Failed with reason Evicted and a
// DisruptionTarget condition, an Evicted Event recorded; the Pod object
// stays, for its controller to replace.
func (w *podWorker) evict(ctx context.Context, msg string) {
	w.mu.Lock()
	w.phase, w.reason, w.message, w.evicted = corev1.PodFailed, "Evicted", msg, true
	w.mu.Unlock()
	w.event(ctx, corev1.EventTypeWarning, "Evicted", msg)
	zero := int64(0)
	w.stop(true, &zero)
}
