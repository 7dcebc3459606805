package apiserver_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"pkg.dev/pkg/orchestrator/apiserver"
	"pkg.dev/pkg/orchestrator/store"
)

// Serve the API over a store and talk to it with client-go.
func ExampleNew() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "apiserver-example")
	defer os.RemoveAll(dir)
	st, err := store.Open(ctx, dir, store.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	srv, err := apiserver.New(ctx, apiserver.Config{Store: st})
	if err != nil {
		fmt.Println(err)
		return
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()

	client := kubernetes.NewForConfigOrDie(&rest.Config{Host: hs.URL})
	cm, err := client.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "greeting"},
		Data:       map[string]string{"hello": "world"},
	}, metav1.CreateOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cm.Namespace, cm.Name, cm.Data["hello"])
	_, err = client.CoreV1().ConfigMaps("default").Get(ctx, "missing", metav1.GetOptions{})
	fmt.Println(err)
	// Output:
	// default greeting world
	// configmaps "missing" not found
}
