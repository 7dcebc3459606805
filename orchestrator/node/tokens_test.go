package node

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// A projected ServiceAccount token is renewed at 80% of its lifetime, as
// the kubelet renews it, and the new one replaces the file the container
// reads; a failed renewal is tried again.
func TestRefreshTokens(t *testing.T) {
	cs := fake.NewSimpleClientset()
	var n atomic.Int32
	cs.PrependReactor("create", "serviceaccounts", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "token" {
			return false, nil, nil
		}
		i := n.Add(1)
		if i == 2 {
			return true, nil, os.ErrDeadlineExceeded // one failure, retried
		}
		tr := a.(k8stesting.CreateAction).GetObject().(*authenticationv1.TokenRequest)
		if tr.Spec.BoundObjectRef == nil || tr.Spec.BoundObjectRef.Name != "web" || tr.Spec.Audiences[0] != "vault" {
			t.Errorf("token request %+v", tr.Spec)
		}
		return true, &authenticationv1.TokenRequest{Status: authenticationv1.TokenRequestStatus{
			Token:               "token-" + string(rune('0'+i)),
			ExpirationTimestamp: metav1.NewTime(time.Now().Add(500 * time.Millisecond)),
		}}, nil
	})
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "u1"}, Spec: corev1.PodSpec{ServiceAccountName: "app"}}
	src := &corev1.ServiceAccountTokenProjection{Audience: "vault", Path: "token"}
	dir := t.TempDir()
	tokens, err := writeProjected(context.Background(), cs, pod, "vault-token",
		&corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{{ServiceAccountToken: src}}}, dir)
	if err != nil || len(tokens) != 1 {
		t.Fatalf("writeProjected: %v %v", tokens, err)
	}
	read := func() string { b, _ := os.ReadFile(filepath.Join(dir, "token")); return string(b) }
	if got := read(); got != "token-1" {
		t.Fatalf("token file %q", got)
	}
	tokenRetryForTest(t, 100*time.Millisecond)
	stop := make(chan struct{})
	defer close(stop)
	go refreshTokens(context.Background(), cs, pod, map[string]volume{"vault-token": {path: dir, tokens: tokens}}, stop, func(string, ...any) {})
	deadline := time.Now().Add(5 * time.Second)
	for read() != "token-3" {
		if time.Now().After(deadline) {
			t.Fatalf("the token was not renewed after a failed try: file %q after %d requests", read(), n.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func tokenRetryForTest(t *testing.T, d time.Duration) {
	old := tokenRetry
	tokenRetry = d
	t.Cleanup(func() { tokenRetry = old })
}
