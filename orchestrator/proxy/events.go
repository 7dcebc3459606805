package proxy

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// recorder writes Events about Services and Ingresses, once per object,
// reason and message until the problem clears, so that a standing
// problem (an Ingress naming a missing Service) is one Event, not one a
// sync.
type recorder struct {
	client    kubernetes.Interface
	component string
	log       *slog.Logger

	mu   sync.Mutex
	seen map[types.UID]map[string]bool // object → reason + "\x00" + message
}

func newRecorder(client kubernetes.Interface, component string, log *slog.Logger) *recorder {
	return &recorder{client: client, component: component, log: log, seen: map[types.UID]map[string]bool{}}
}

// warn records a Warning Event on the object unless the same reason and
// message were already recorded for it.
func (r *recorder) warn(ctx context.Context, obj metav1.Object, kind, apiVersion, reason, msg string) {
	r.mu.Lock()
	m := r.seen[obj.GetUID()]
	if m == nil {
		m = map[string]bool{}
		r.seen[obj.GetUID()] = m
	}
	if m[reason+"\x00"+msg] {
		r.mu.Unlock()
		return
	}
	m[reason+"\x00"+msg] = true
	r.mu.Unlock()
	r.log.Warn(msg, "object", obj.GetNamespace()+"/"+obj.GetName(), "kind", kind, "reason", reason)
	now := metav1.NewTime(time.Now())
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{GenerateName: obj.GetName() + ".", Namespace: obj.GetNamespace()},
		InvolvedObject: corev1.ObjectReference{
			Kind: kind, APIVersion: apiVersion, Namespace: obj.GetNamespace(), Name: obj.GetName(),
			UID: obj.GetUID(), ResourceVersion: obj.GetResourceVersion(),
		},
		Reason: reason, Message: msg, Type: corev1.EventTypeWarning, Count: 1,
		FirstTimestamp: now, LastTimestamp: now,
		Source:              corev1.EventSource{Component: r.component},
		ReportingController: r.component, ReportingInstance: r.component,
	}
	if _, err := r.client.CoreV1().Events(obj.GetNamespace()).Create(context.WithoutCancel(ctx), ev, metav1.CreateOptions{}); err != nil && !apierrors.IsNotFound(err) {
		r.log.Debug("recording event", "object", obj.GetNamespace()+"/"+obj.GetName(), "err", err)
	}
}

// retain forgets the object's recorded problems for which keep is
// false (they cleared), so that one that comes back is reported again.
func (r *recorder) retain(uid types.UID, keep func(reason, msg string) bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k := range r.seen[uid] {
		reason, msg, _ := strings.Cut(k, "\x00")
		if !keep(reason, msg) {
			delete(r.seen[uid], k)
		}
	}
	if len(r.seen[uid]) == 0 {
		delete(r.seen, uid)
	}
}
