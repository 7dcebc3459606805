package release

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordclient "k8s.io/client-go/kubernetes/typed/coordination/v1"
)

// Locker serializes operations on one release, across processes and
// machines: a second operation fails at once instead of racing the first.
type Locker interface {
	// Lock takes the release's lock or fails with ErrInProgress naming the
	// holder; the returned function releases it.
	Lock(ctx context.Context, namespace, name string) (unlock func(), err error)
}

// LeaseLocker locks a release with a coordination.k8s.io Lease named
// "pkg.release.NAME" in the release's namespace, renewed while the
// operation runs. A lease left by a process that died (its duration passed
// without renewal, or its holder was a process on this host that no longer
// exists) is taken over.
type LeaseLocker struct {
	Leases coordclient.LeasesGetter
	// Identity names this process: "pkg/HOST/PID/NONCE".
	Identity string
	// Duration is how long a lease lives without renewal; 0 means 30s.
	Duration time.Duration
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
}

var _ Locker = (*LeaseLocker)(nil)

// NewIdentity returns an identity for this process.
func NewIdentity() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("pkg/%s/%d/%d", host, os.Getpid(), time.Now().UnixNano())
}

func (l *LeaseLocker) now() time.Time {
	if l.Clock != nil {
		return l.Clock()
	}
	return time.Now()
}

func (l *LeaseLocker) duration() time.Duration {
	if l.Duration > 0 {
		return l.Duration
	}
	return 30 * time.Second
}

// LeaseName is the name of a release's lock.
func LeaseName(release string) string { return "pkg.release." + release }

// Lock takes the lease.
func (l *LeaseLocker) Lock(ctx context.Context, namespace, name string) (func(), error) {
	api := l.Leases.Leases(namespace)
	secs := int32(l.duration() / time.Second)
	now := metav1.NewMicroTime(l.now())
	id := l.Identity
	lease := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: LeaseName(name), Labels: map[string]string{"owner": "pkg", "name": name}},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity: &id, LeaseDurationSeconds: &secs, AcquireTime: &now, RenewTime: &now,
		},
	}
	created, err := api.Create(ctx, lease, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		created, err = l.takeOver(ctx, namespace, name, lease)
	}
	if err != nil {
		return nil, err
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go l.renew(namespace, created.Name, created.ResourceVersion, stop, done)
	return func() {
		close(stop)
		<-done
		// The lock is released by deleting the lease; a failure leaves it
		// to expire.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = api.Delete(dctx, LeaseName(name), metav1.DeleteOptions{})
	}, nil
}

// takeOver replaces a lease whose holder is gone, or fails naming the
// live holder.
func (l *LeaseLocker) takeOver(ctx context.Context, namespace, name string, want *coordinationv1.Lease) (*coordinationv1.Lease, error) {
	api := l.Leases.Leases(namespace)
	cur, err := api.Get(ctx, LeaseName(name), metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading the lock of release %q: %w", name, err)
	}
	holder := ""
	if cur.Spec.HolderIdentity != nil {
		holder = *cur.Spec.HolderIdentity
	}
	if l.alive(cur) {
		return nil, fmt.Errorf("release %q in namespace %q: %w (held by %s since %s; it is released when that command ends)",
			name, namespace, ErrInProgress, holder, acquired(cur))
	}
	want.ResourceVersion = cur.ResourceVersion
	got, err := api.Update(ctx, want, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) {
		return nil, fmt.Errorf("release %q in namespace %q: %w (another command took the lock just now)", name, namespace, ErrInProgress)
	}
	if err != nil {
		return nil, fmt.Errorf("taking over the lock of release %q from %s: %w", name, holder, err)
	}
	return got, nil
}

func acquired(l *coordinationv1.Lease) string {
	if l.Spec.AcquireTime == nil {
		return "an unknown time"
	}
	return l.Spec.AcquireTime.UTC().Format(time.RFC3339)
}

// alive tells whether a lease's holder may still be working: its lease is
// within its duration and, if it ran on this host, its process exists.
func (l *LeaseLocker) alive(lease *coordinationv1.Lease) bool {
	s := lease.Spec
	if s.RenewTime == nil || s.LeaseDurationSeconds == nil {
		return false
	}
	if l.now().After(s.RenewTime.Add(time.Duration(*s.LeaseDurationSeconds) * time.Second)) {
		return false
	}
	if s.HolderIdentity == nil {
		return true
	}
	parts := strings.Split(*s.HolderIdentity, "/")
	if len(parts) != 4 || parts[0] != "pkg" {
		return true
	}
	host, _ := os.Hostname()
	if parts[1] != host {
		return true
	}
	pid, err := strconv.Atoi(parts[2])
	if err != nil {
		return true
	}
	return processExists(pid)
}

// processExists tells whether a process with pid exists on this host.
func processExists(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// renew keeps the lease fresh until stop is closed.
func (l *LeaseLocker) renew(namespace, leaseName, rv string, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	api := l.Leases.Leases(namespace)
	t := time.NewTicker(l.duration() / 3)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), l.duration()/3)
			cur, err := api.Get(ctx, leaseName, metav1.GetOptions{})
			if err == nil {
				now := metav1.NewMicroTime(l.now())
				cur.Spec.RenewTime = &now
				_, _ = api.Update(ctx, cur, metav1.UpdateOptions{})
			}
			cancel()
		}
	}
}
