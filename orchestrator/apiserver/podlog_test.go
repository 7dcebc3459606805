package apiserver

import (
	"context"
	"io"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestPodLog serves pods/NAME/log through Config.PodLogs with the options
// kubectl logs sends, defaulting the container when there is one.
func TestPodLog(t *testing.T) {
	t.Parallel()
	var seen corev1.PodLogOptions
	ts := newTestServerWith(t, func(c *Config) {
		c.PodLogs = func(_ context.Context, pod *corev1.Pod, o corev1.PodLogOptions) (io.ReadCloser, error) {
			seen = o
			return io.NopCloser(strings.NewReader("log of " + pod.Name + "/" + o.Container + "\n")), nil
		}
	})
	ctx := context.Background()
	pods := ts.client.CoreV1().Pods("default")
	for _, p := range []*corev1.Pod{
		{ObjectMeta: metav1.ObjectMeta{Name: "one"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "x"}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "two"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Image: "x"}, {Name: "b", Image: "x"}}}},
	} {
		if _, err := pods.Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	tail := int64(7)
	b, err := pods.GetLogs("one", &corev1.PodLogOptions{TailLines: &tail, Timestamps: true}).DoRaw(ctx)
	if err != nil || string(b) != "log of one/web\n" {
		t.Fatalf("logs: %q, %v", b, err)
	}
	if seen.TailLines == nil || *seen.TailLines != 7 || !seen.Timestamps || seen.Container != "web" {
		t.Errorf("options reached PodLogs as %+v", seen)
	}
	// kubectl streams logs; the error is the Status kubectl prints.
	_, err = pods.GetLogs("two", &corev1.PodLogOptions{}).Stream(ctx)
	if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), "a container name must be specified for pod two, choose one of: [a b]") {
		t.Errorf("two containers, none named: %v", err)
	}
	if b, err := pods.GetLogs("two", &corev1.PodLogOptions{Container: "b"}).DoRaw(ctx); err != nil || string(b) != "log of two/b\n" {
		t.Errorf("container b: %q, %v", b, err)
	}
	if _, err := pods.GetLogs("two", &corev1.PodLogOptions{Container: "zz"}).Stream(ctx); !apierrors.IsBadRequest(err) {
		t.Errorf("unknown container: %v", err)
	}
}
