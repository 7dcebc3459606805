package apiserver

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"pkg.dev/pkg/orchestrator/store"
)

// clusterIPService returns a Service of type typ with one port per
// number in ports.
func clusterIPService(name string, typ corev1.ServiceType, ports ...int32) *corev1.Service {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       corev1.ServiceSpec{Type: typ, Selector: map[string]string{"app": name}},
	}
	for _, p := range ports {
		svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{Name: fmt.Sprintf("p%d", p), Port: p})
	}
	return svc
}

func TestServiceIPsUniqueAndStableAcrossRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	open := func() (*store.Store, *testServer) {
		st, err := store.Open(ctx, dir, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return st, serveStore(t, st, Config{}, func(*Config) {})
	}
	st, ts := open()
	prefix := netip.MustParsePrefix(DefaultServiceCIDR)
	seen := map[string]string{}
	check := func(svc *corev1.Service) {
		t.Helper()
		ip := svc.Spec.ClusterIP
		addr, err := netip.ParseAddr(ip)
		if err != nil || !prefix.Contains(addr) || ip == "10.96.0.1" {
			t.Fatalf("%s: clusterIP %q outside the range or reserved", svc.Name, ip)
		}
		if other, dup := seen[ip]; dup && other != svc.Name {
			t.Fatalf("%s and %s share %s", svc.Name, other, ip)
		}
		seen[ip] = svc.Name
		if len(svc.Spec.ClusterIPs) != 1 || svc.Spec.ClusterIPs[0] != ip {
			t.Errorf("%s: clusterIPs %v", svc.Name, svc.Spec.ClusterIPs)
		}
		if len(svc.Spec.IPFamilies) != 1 || svc.Spec.IPFamilies[0] != corev1.IPv4Protocol ||
			svc.Spec.IPFamilyPolicy == nil || *svc.Spec.IPFamilyPolicy != corev1.IPFamilyPolicySingleStack {
			t.Errorf("%s: families %v policy %v", svc.Name, svc.Spec.IPFamilies, svc.Spec.IPFamilyPolicy)
		}
	}
	for i := range 100 {
		svc, err := ts.client.CoreV1().Services("default").Create(ctx, clusterIPService(fmt.Sprintf("s%d", i), "", 80), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		check(svc)
	}
	k, err := ts.client.CoreV1().Services("default").Get(ctx, "kubernetes", metav1.GetOptions{})
	if err != nil || k.Spec.ClusterIP != "10.96.0.1" || k.Spec.Ports[0].Port != 443 || k.Labels["component"] != "apiserver" {
		t.Fatalf("kubernetes service: %v %+v", err, k)
	}

	// Restart over the same store: the addresses stay and new ones differ.
	if err := ts.srv.Close(); err != nil {
		t.Fatal(err)
	}
	ts.http.Close()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, ts = open()
	t.Cleanup(func() { _ = ts.srv.Close(); _ = st.Close() })
	for i := range 100 {
		svc, err := ts.client.CoreV1().Services("default").Get(ctx, fmt.Sprintf("s%d", i), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if seen[svc.Spec.ClusterIP] != svc.Name {
			t.Fatalf("%s changed address to %s", svc.Name, svc.Spec.ClusterIP)
		}
	}
	for i := 100; i < 150; i++ {
		svc, err := ts.client.CoreV1().Services("default").Create(ctx, clusterIPService(fmt.Sprintf("s%d", i), "", 80), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		check(svc)
	}
	if _, err := ts.client.CoreV1().Services("default").Get(ctx, "kubernetes", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	// The restarted server knows what the stored Services hold.
	for ip := range seen {
		taken := clusterIPService("taken", "", 80)
		taken.Spec.ClusterIP = ip
		if _, err := ts.client.CoreV1().Services("default").Create(ctx, taken, metav1.CreateOptions{}); !apierrors.IsInvalid(err) {
			t.Fatalf("address %s of a stored service given again after restart: %v", ip, err)
		}
		break
	}
	// Deleting releases the address for a requested one.
	victim := seen
	var ip, name string
	for ip, name = range victim {
		break
	}
	if err := ts.client.CoreV1().Services("default").Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	again := clusterIPService("again", "", 80)
	again.Spec.ClusterIP = ip
	if got, err := ts.client.CoreV1().Services("default").Create(ctx, again, metav1.CreateOptions{}); err != nil || got.Spec.ClusterIP != ip {
		t.Fatalf("reusing %s: %v", ip, err)
	}
}

func TestServiceRequestedIPsAndTypes(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	svcs := ts.client.CoreV1().Services("default")
	create := func(svc *corev1.Service) (*corev1.Service, error) {
		return svcs.Create(ctx, svc, metav1.CreateOptions{})
	}
	fixed := clusterIPService("fixed", "", 80)
	fixed.Spec.ClusterIP = "10.96.0.50"
	got, err := create(fixed)
	if err != nil || got.Spec.ClusterIP != "10.96.0.50" {
		t.Fatalf("requested IP: %v %v", err, got)
	}
	tests := []struct {
		name, ip, want string
	}{
		{"taken", "10.96.0.50", `Service "taken" is invalid: spec.clusterIPs: Invalid value: ["10.96.0.50"]: failed to allocate IP 10.96.0.50: provided IP is already allocated`},
		{"kube", "10.96.0.1", "provided IP is already allocated"},
		{"outside", "192.168.0.1", `failed to allocate IP 192.168.0.1: the provided IP (192.168.0.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12`},
	}
	for _, tt := range tests {
		svc := clusterIPService(tt.name, "", 80)
		svc.Spec.ClusterIP = tt.ip
		_, err := create(svc)
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want Invalid with %q", tt.name, err, tt.want)
		}
	}

	headless := clusterIPService("headless", "", 80)
	headless.Spec.ClusterIP = corev1.ClusterIPNone
	if got, err := create(headless); err != nil || got.Spec.ClusterIP != "None" || got.Spec.ClusterIPs[0] != "None" {
		t.Errorf("headless: %v %+v", err, got)
	}
	ext := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "ext"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "example.com"}}
	if got, err := create(ext); err != nil || got.Spec.ClusterIP != "" || len(got.Spec.ClusterIPs) != 0 {
		t.Errorf("external name: %v %+v", err, got)
	}

	// An update that leaves clusterIP out keeps it; changing it is refused.
	cur, _ := svcs.Get(ctx, "fixed", metav1.GetOptions{})
	cur.Spec.ClusterIP, cur.Spec.ClusterIPs = "", nil
	if got, err := svcs.Update(ctx, cur, metav1.UpdateOptions{}); err != nil || got.Spec.ClusterIP != "10.96.0.50" {
		t.Fatalf("update without clusterIP: %v %v", err, got)
	}
	cur, _ = svcs.Get(ctx, "fixed", metav1.GetOptions{})
	cur.Spec.ClusterIP, cur.Spec.ClusterIPs = "10.96.0.51", nil
	if _, err := svcs.Update(ctx, cur, metav1.UpdateOptions{}); !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "may not change once set") {
		t.Errorf("changing clusterIP: %v", err)
	}
}

func TestServiceNodePorts(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	svcs := ts.client.CoreV1().Services("default")
	np, err := svcs.Create(ctx, clusterIPService("np", corev1.ServiceTypeNodePort, 80, 443), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, b := np.Spec.Ports[0].NodePort, np.Spec.Ports[1].NodePort
	if a < 30000 || a > 32767 || b < 30000 || b > 32767 || a == b || np.Spec.ClusterIP == "" {
		t.Fatalf("node ports %d %d, clusterIP %q", a, b, np.Spec.ClusterIP)
	}
	lb, err := svcs.Create(ctx, clusterIPService("lb", corev1.ServiceTypeLoadBalancer, 80), metav1.CreateOptions{})
	if err != nil || lb.Spec.Ports[0].NodePort == 0 || lb.Spec.Ports[0].NodePort == a || lb.Spec.Ports[0].NodePort == b {
		t.Fatalf("load balancer: %v %+v", err, lb)
	}

	fixed := clusterIPService("fixed", corev1.ServiceTypeNodePort, 80)
	fixed.Spec.Ports[0].NodePort = 30080
	if got, err := svcs.Create(ctx, fixed, metav1.CreateOptions{}); err != nil || got.Spec.Ports[0].NodePort != 30080 {
		t.Fatalf("requested node port: %v", err)
	}
	clash := clusterIPService("clash", corev1.ServiceTypeNodePort, 81)
	clash.Spec.Ports[0].NodePort = 30080
	_, err = svcs.Create(ctx, clash, metav1.CreateOptions{})
	want := `Service "clash" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated`
	if !apierrors.IsInvalid(err) || err.Error() != want {
		t.Fatalf("clash: %v\nwant %s", err, want)
	}
	clash.Spec.Ports[0].NodePort = a
	if _, err := svcs.Create(ctx, clash, metav1.CreateOptions{}); !apierrors.IsInvalid(err) {
		t.Fatalf("clash with an allocated port: %v", err)
	}

	// NodePort -> ClusterIP releases the ports; ClusterIP -> NodePort
	// allocates them.
	cur, _ := svcs.Get(ctx, "fixed", metav1.GetOptions{})
	cur.Spec.Type = corev1.ServiceTypeClusterIP
	cur.Spec.Ports[0].NodePort = 0
	got, err := svcs.Update(ctx, cur, metav1.UpdateOptions{})
	if err != nil || got.Spec.Ports[0].NodePort != 0 {
		t.Fatalf("to ClusterIP: %v %+v", err, got)
	}
	clash.Spec.Ports[0].NodePort = 30080
	if _, err := svcs.Create(ctx, clash, metav1.CreateOptions{}); err != nil {
		t.Fatalf("released port not reusable: %v", err)
	}
	got.Spec.Type = corev1.ServiceTypeNodePort
	got, err = svcs.Update(ctx, got, metav1.UpdateOptions{})
	if err != nil || got.Spec.Ports[0].NodePort < 30000 || got.Spec.Ports[0].NodePort == 30080 {
		t.Fatalf("to NodePort: %v %+v", err, got)
	}
	// Kept across updates that leave nodePort out.
	kept := got.Spec.Ports[0].NodePort
	got.Spec.Ports[0].NodePort = 0
	got, err = svcs.Update(ctx, got, metav1.UpdateOptions{})
	if err != nil || got.Spec.Ports[0].NodePort != kept {
		t.Fatalf("update kept node port: %v %+v", err, got)
	}
	// Deleting releases them.
	if err := svcs.Delete(ctx, "np", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	reuse := clusterIPService("reuse", corev1.ServiceTypeNodePort, 80)
	reuse.Spec.Ports[0].NodePort = a
	if _, err := svcs.Create(ctx, reuse, metav1.CreateOptions{}); err != nil {
		t.Fatalf("port of a deleted service: %v", err)
	}
	// A dry run reserves nothing.
	dry := clusterIPService("dry", corev1.ServiceTypeNodePort, 80)
	dry.Spec.Ports[0].NodePort = 30999
	if _, err := svcs.Create(ctx, dry, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Fatal(err)
	}
	if _, err := svcs.Create(ctx, dry, metav1.CreateOptions{}); err != nil {
		t.Fatalf("dry run reserved the port: %v", err)
	}
}

func TestServiceHealthCheckNodePort(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	svcs := ts.client.CoreV1().Services("default")
	lb := clusterIPService("lb", corev1.ServiceTypeLoadBalancer, 80)
	lb.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	got, err := svcs.Create(ctx, lb, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hc := got.Spec.HealthCheckNodePort
	if hc < 30000 || hc > 32767 || hc == got.Spec.Ports[0].NodePort {
		t.Fatalf("healthCheckNodePort %d, nodePort %d", hc, got.Spec.Ports[0].NodePort)
	}
	got.Spec.HealthCheckNodePort = 0
	if got, err = svcs.Update(ctx, got, metav1.UpdateOptions{}); err != nil || got.Spec.HealthCheckNodePort != hc {
		t.Fatalf("kept across update: %v %d", err, got.Spec.HealthCheckNodePort)
	}
	other := clusterIPService("other", corev1.ServiceTypeNodePort, 80)
	other.Spec.Ports[0].NodePort = hc
	if _, err := svcs.Create(ctx, other, metav1.CreateOptions{}); !apierrors.IsInvalid(err) {
		t.Fatalf("health check port given twice: %v", err)
	}
	got.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
	got.Spec.HealthCheckNodePort = 0
	if got, err = svcs.Update(ctx, got, metav1.UpdateOptions{}); err != nil || got.Spec.HealthCheckNodePort != 0 {
		t.Fatalf("to Cluster policy: %v %d", err, got.Spec.HealthCheckNodePort)
	}
	if _, err := svcs.Create(ctx, other, metav1.CreateOptions{}); err != nil {
		t.Fatalf("released health check port: %v", err)
	}
}

func TestServiceSmallRangeFills(t *testing.T) {
	ts := newTestServerWith(t, func(c *Config) { c.ServiceCIDR = "10.0.0.0/28" })
	ctx := context.Background()
	svcs := ts.client.CoreV1().Services("default")
	seen := map[string]bool{"10.0.0.1": true}
	// 14 usable addresses, the first is the kubernetes Service's.
	for i := range 13 {
		svc, err := svcs.Create(ctx, clusterIPService(fmt.Sprintf("s%d", i), "", 80), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if seen[svc.Spec.ClusterIP] || svc.Spec.ClusterIP == "10.0.0.0" || svc.Spec.ClusterIP == "10.0.0.15" {
			t.Fatalf("address %s given twice or not usable", svc.Spec.ClusterIP)
		}
		seen[svc.Spec.ClusterIP] = true
	}
	_, err := svcs.Create(ctx, clusterIPService("full", "", 80), metav1.CreateOptions{})
	if !apierrors.IsInternalError(err) || !strings.Contains(err.Error(), "failed to allocate a serviceIP: range is full") {
		t.Fatalf("full range: %v", err)
	}
	if k, err := svcs.Get(ctx, "kubernetes", metav1.GetOptions{}); err != nil || k.Spec.ClusterIP != "10.0.0.1" {
		t.Fatalf("kubernetes service: %v", err)
	}
}

func TestKubernetesServiceRecreated(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	svcs := ts.client.CoreV1().Services("default")
	if err := svcs.Delete(ctx, "kubernetes", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the kubernetes service to come back", func() bool {
		k, err := svcs.Get(ctx, "kubernetes", metav1.GetOptions{})
		return err == nil && k.Spec.ClusterIP == "10.96.0.1"
	})
}
