package controllers

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
)

// addrState summarizes Endpoints as pod name -> "ready:port,port" or
// "notready:port".
func addrState(ep *corev1.Endpoints) map[string]string {
	out := map[string]string{}
	for _, s := range ep.Subsets {
		ports := ""
		for _, p := range s.Ports {
			ports += fmt.Sprintf("%s=%d,", p.Name, p.Port)
		}
		for _, a := range s.Addresses {
			out[a.TargetRef.Name] = "ready:" + ports
		}
		for _, a := range s.NotReadyAddresses {
			out[a.TargetRef.Name] = "notready:" + ports
		}
	}
	return out
}

// sliceState summarizes the Service's EndpointSlices the same way, with
// ready, serving and terminating.
func sliceState(t *testing.T, client kubernetes.Interface, ns, svc string) map[string]string {
	t.Helper()
	l, err := client.DiscoveryV1().EndpointSlices(ns).List(context.Background(), metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + svc})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, s := range l.Items {
		if s.Labels[discoveryv1.LabelManagedBy] != sliceManager || len(s.OwnerReferences) != 1 || s.OwnerReferences[0].Name != svc {
			t.Errorf("slice %s labels %v owners %v", s.Name, s.Labels, s.OwnerReferences)
		}
		ports := ""
		for _, p := range s.Ports {
			ports += fmt.Sprintf("%s=%d,", *p.Name, *p.Port)
		}
		for _, e := range s.Endpoints {
			out[e.TargetRef.Name] = fmt.Sprintf("ready=%v serving=%v terminating=%v %s %s", *e.Conditions.Ready, *e.Conditions.Serving, *e.Conditions.Terminating, e.Addresses[0], ports)
		}
	}
	return out
}

func TestEndpointsFollowReadiness(t *testing.T) {
	t.Parallel()
	client, ns := start(t, Options{Controllers: []string{EndpointsController, EndpointSliceController}})
	ctx := context.Background()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: map[string]string{"tier": "front"}},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{
				{Name: "http", Port: 80, TargetPort: intstr.FromString("http")},
				{Name: "metrics", Port: 9090, TargetPort: intstr.FromInt32(9100)},
			},
		},
	}
	if _, err := client.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	mkPod := func(name string, httpPort int32) {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "web"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "web",
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: httpPort}}}}}}
		if _, err := client.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	mkPod("a", 8080)
	mkPod("b", 8081)
	other := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "other", Labels: map[string]string{"app": "db"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "db", Image: "db"}}}}
	if _, err := client.CoreV1().Pods(ns).Create(ctx, other, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	getEP := func() (*corev1.Endpoints, error) {
		return client.CoreV1().Endpoints(ns).Get(ctx, "web", metav1.GetOptions{})
	}
	wantEP := func(what string, want map[string]string) {
		t.Helper()
		var last map[string]string
		eventually(t, 5*time.Second, what+" in endpoints", func() (bool, error) {
			ep, err := getEP()
			if err != nil {
				return false, err
			}
			last = addrState(ep)
			return fmt.Sprint(last) == fmt.Sprint(want), fmt.Errorf("have %v", last)
		})
	}
	wantSlices := func(what string, want map[string]string) {
		t.Helper()
		var last map[string]string
		eventually(t, 5*time.Second, what+" in endpointslices", func() (bool, error) {
			last = sliceState(t, client, ns, "web")
			return fmt.Sprint(last) == fmt.Sprint(want), fmt.Errorf("have %v", last)
		})
	}
	// No Pod has an address yet: empty Endpoints, one empty slice.
	wantEP("nothing", map[string]string{})
	eventually(t, 5*time.Second, "a placeholder slice", func() (bool, error) {
		l, err := client.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=web"})
		return err == nil && len(l.Items) == 1 && len(l.Items[0].Endpoints) == 0 && l.Items[0].AddressType == discoveryv1.AddressTypeIPv4, err
	})
	ep, err := getEP()
	if err != nil {
		t.Fatal(err)
	}
	if ep.Labels["tier"] != "front" {
		t.Errorf("endpoints labels %v", ep.Labels)
	}

	k := newKubelet(client, ns)
	k.ready(t, "a", true)
	k.ready(t, "b", false)
	k.ready(t, "other", true)
	wantEP("a ready, b not", map[string]string{"a": "ready:http=8080,metrics=9100,", "b": "notready:http=8081,metrics=9100,"})
	wantSlices("a ready, b not", map[string]string{
		"a": "ready=true serving=true terminating=false 10.244.0.2 http=8080,metrics=9100,",
		"b": "ready=false serving=false terminating=false 10.244.0.3 http=8081,metrics=9100,",
	})

	k.ready(t, "b", true)
	k.ready(t, "a", false)
	wantEP("b ready, a not", map[string]string{"a": "notready:http=8080,metrics=9100,", "b": "ready:http=8081,metrics=9100,"})
	wantSlices("b ready, a not", map[string]string{
		"a": "ready=false serving=false terminating=false 10.244.0.2 http=8080,metrics=9100,",
		"b": "ready=true serving=true terminating=false 10.244.0.3 http=8081,metrics=9100,",
	})

	// publishNotReadyAddresses makes every address ready.
	eventually(t, 5*time.Second, "publishing not-ready addresses", func() (bool, error) {
		cur, err := client.CoreV1().Services(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		cur.Spec.PublishNotReadyAddresses = true
		_, err = client.CoreV1().Services(ns).Update(ctx, cur, metav1.UpdateOptions{})
		return err == nil, err
	})
	wantEP("all published", map[string]string{"a": "ready:http=8080,metrics=9100,", "b": "ready:http=8081,metrics=9100,"})
	wantSlices("all published", map[string]string{
		"a": "ready=true serving=true terminating=false 10.244.0.2 http=8080,metrics=9100,",
		"b": "ready=true serving=true terminating=false 10.244.0.3 http=8081,metrics=9100,",
	})

	// A deleted Pod leaves; a Pod without the named port keeps only the
	// numeric one.
	if err := client.CoreV1().Pods(ns).Delete(ctx, "a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	c := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "c", Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "web"}}}}
	if _, err := client.CoreV1().Pods(ns).Create(ctx, c, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	k.ready(t, "c", true)
	wantEP("a gone, c on metrics only", map[string]string{"b": "ready:http=8081,metrics=9100,", "c": "ready:metrics=9100,"})
	wantSlices("a gone, c on metrics only", map[string]string{
		"b": "ready=true serving=true terminating=false 10.244.0.3 http=8081,metrics=9100,",
		"c": "ready=true serving=true terminating=false 10.244.0.5 metrics=9100,",
	})

	// The Service's deletion takes its Endpoints along.
	if err := client.CoreV1().Services(ns).Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "endpoints deleted", func() (bool, error) {
		_, err := getEP()
		return apierrors.IsNotFound(err), nil
	})
}

func TestEndpointsLeaveSelectorlessServicesAlone(t *testing.T) {
	t.Parallel()
	client, ns := start(t, Options{Controllers: []string{EndpointsController, EndpointSliceController}})
	ctx := context.Background()
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "ext"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}
	if _, err := client.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ep := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "ext"}, Subsets: []corev1.EndpointSubset{{
		Addresses: []corev1.EndpointAddress{{IP: "192.0.2.1"}}, Ports: []corev1.EndpointPort{{Port: 80}}}}}
	if _, err := client.CoreV1().Endpoints(ns).Create(ctx, ep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	got, err := client.CoreV1().Endpoints(ns).Get(ctx, "ext", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Subsets) != 1 || got.Subsets[0].Addresses[0].IP != "192.0.2.1" {
		t.Errorf("user endpoints changed: %+v", got.Subsets)
	}
	l, err := client.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=ext"})
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(l.Items, func(s discoveryv1.EndpointSlice) bool { return s.Labels[discoveryv1.LabelManagedBy] == sliceManager }) {
		t.Errorf("slices made for a service without selector: %v", l.Items)
	}
}
