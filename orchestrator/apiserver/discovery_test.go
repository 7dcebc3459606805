package apiserver

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// get fetches path with an Accept header and returns status, content type
// and body.
func (ts *testServer) get(t *testing.T, path, accept string) (int, string, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", ts.http.URL+path, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

func TestDiscovery(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	v, err := ts.client.Discovery().ServerVersion()
	if err != nil || v.GitVersion != "v1.37.0" || v.Major != "1" || v.Minor != "37" {
		t.Fatalf("version %v %+v", err, v)
	}
	groups, lists, err := ts.client.Discovery().ServerGroupsAndResources()
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 14 {
		t.Errorf("%d groups", len(groups))
	}
	found := map[string]metav1.APIResource{}
	for _, l := range lists {
		for _, r := range l.APIResources {
			found[l.GroupVersion+"/"+r.Name] = r
		}
	}
	for _, want := range []string{"v1/pods", "v1/pods/status", "apps/v1/deployments/scale", "batch/v1/cronjobs", "coordination.k8s.io/v1/leases", "rbac.authorization.k8s.io/v1/clusterroles"} {
		if _, ok := found[want]; !ok {
			t.Errorf("discovery lacks %s", want)
		}
	}
	if d := found["apps/v1/deployments"]; !d.Namespaced || d.ShortNames[0] != "deploy" || d.Kind != "Deployment" {
		t.Errorf("deployments: %+v", d)
	}

	tests := []struct {
		path, accept string
		code         int
		ctype        string
	}{
		{"/api", contentTypeDiscoveryV2 + ",application/json", 200, contentTypeDiscoveryV2},
		{"/apis", contentTypeDiscoveryV2, 200, contentTypeDiscoveryV2},
		{"/apis", "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json", 200, "application/json"},
		{"/api", "application/vnd.kubernetes.protobuf", 406, "application/json"},
		{"/api/v1", "", 200, "application/json"},
		{"/apis/apps", "", 200, "application/json"},
		{"/apis/apps/v1", "application/json", 200, "application/json"},
		{"/apis/nope/v1", "", 404, "application/json"},
		{"/openapi/v2", "", 404, "application/json"},
		{"/api/v1/namespaces/default/status", "", 200, "application/json"},
		{"/api/v1/namespaces/default", "", 200, "application/json"},
		{"/openapi/v3", "", 200, "application/json"},
		{"/openapi/v3/apis/apps/v1", "", 200, "application/json"},
		{"/openapi/v3/apis/nope/v1", "", 404, "application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.path+" "+tt.accept, func(t *testing.T) {
			code, ct, body := ts.get(t, tt.path, tt.accept)
			if code != tt.code || ct != tt.ctype {
				t.Fatalf("got %d %s: %s", code, ct, body)
			}
		})
	}
	_, _, body := ts.get(t, "/apis", contentTypeDiscoveryV2)
	var agg apidiscoveryv2.APIGroupDiscoveryList
	if err := json.Unmarshal(body, &agg); err != nil {
		t.Fatal(err)
	}
	if len(agg.Items) != 13 || agg.Items[0].Name != "apps" || agg.Items[0].Versions[0].Resources[0].Resource != "deployments" {
		t.Errorf("aggregated /apis: %s", body)
	}
}

func TestTables(t *testing.T) {
	t.Parallel()
	// A fixed clock keeps the AGE cells at "0s".
	fixed := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ts := newTestServerWith(t, func(c *Config) { c.Clock = func() time.Time { return fixed } })
	ctx := context.Background()
	if _, err := ts.client.AppsV1().Deployments("default").Create(ctx, deployment("web", 2), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod, err := ts.client.CoreV1().Pods("default").Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Image: "x"}, {Name: "b", Image: "y"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.5", ContainerStatuses: []corev1.ContainerStatus{
		{Name: "a", Ready: true, RestartCount: 2},
		{Name: "b", RestartCount: 1, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}},
	}}
	if _, err := ts.client.CoreV1().Pods("default").UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.client.CoreV1().Secrets("default").Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "s"}, Type: corev1.SecretTypeDockerConfigJson,
		Data: map[string][]byte{".dockerconfigjson": []byte("{}")},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	job, err := ts.client.BatchV1().Jobs("default").Create(ctx, &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "j"},
		Spec:       batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.client.CoreV1().Events("default").Create(ctx, &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "e"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "p"},
		Type:           "Warning", Reason: "BackOff", Message: "Back-off restarting failed container",
		LastTimestamp: metav1.NewTime(fixed.Add(-90 * time.Second)),
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	accept := "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
	tests := []struct {
		path    string
		columns string
		cells   string
	}{
		{"/apis/apps/v1/namespaces/default/deployments", "Name,Ready,Up-to-date,Available,Age,Containers,Images,Selector", `"web","0/2",0,0,"0s","web","nginx","app=web"`},
		{"/apis/apps/v1/namespaces/default/deployments/web", "Name,Ready,Up-to-date,Available,Age,Containers,Images,Selector", `"web","0/2",0,0,"0s","web","nginx","app=web"`},
		{"/api/v1/namespaces?fieldSelector=metadata.name%3Ddefault", "Name,Status,Age", `"default","Active","0s"`},
		{"/api/v1/namespaces/default/serviceaccounts", "Name,Age", ""},
		{"/api/v1/namespaces/default/pods", "Name,Ready,Status,Restarts,Age,IP,Node", `"p","1/2","CrashLoopBackOff","3","0s","10.0.0.5","\u003cnone\u003e"`},
		{"/apis/batch/v1/namespaces/default/jobs", "Name,Status,Completions,Duration,Age,Containers,Images,Selector", `"j","Running","0/1","","0s","c","busybox","batch.kubernetes.io/controller-uid=` + string(job.UID) + `"`},
		{"/api/v1/namespaces/default/events", "Last Seen,Type,Reason,Object,Message,Source,Subobject,First Seen,Count,Name",
			`"90s","Warning","BackOff","pod/p","Back-off restarting failed container","","","0s","1","e"`},
		{"/api/v1/namespaces/default/secrets", "Name,Type,Data,Age", `"s","kubernetes.io/dockerconfigjson",1,"0s"`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			checkTable(t, ts, tt.path, accept, tt.columns, tt.cells)
		})
	}
}

func TestDynamicClient(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := context.Background()
	gvr := schema.GroupVersionResource{Group: "coordination.k8s.io", Version: "v1", Resource: "leases"}
	leases := ts.dyn.Resource(gvr).Namespace("kube-node-lease")
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
		"metadata": map[string]any{"name": "node-1"},
		"spec":     map[string]any{"holderIdentity": "node-1"},
	}}
	got, err := leases.Create(ctx, u, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetUID() == "" {
		t.Fatal("no uid")
	}
	p, err := leases.Patch(ctx, "node-1", types.MergePatchType, []byte(`{"spec":{"leaseDurationSeconds":40}}`), metav1.PatchOptions{})
	// Leases have no generation in kube-apiserver.
	if err != nil || p.GetGeneration() != 0 || p.Object["spec"].(map[string]any)["leaseDurationSeconds"] != int64(40) {
		t.Fatalf("patch: %v %v", err, p)
	}
	list, err := leases.List(ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("list: %v %v", err, list)
	}
	wrong := u.DeepCopy()
	wrong.SetKind("ConfigMap")
	wrong.SetName("x")
	if _, err := leases.Create(ctx, wrong, metav1.CreateOptions{}); err == nil || !strings.Contains(err.Error(), "does not match the expected kind") {
		t.Errorf("kind mismatch: %v", err)
	}
	if err := leases.Delete(ctx, "node-1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
}

// checkTable fetches path as a server-side Table and checks its column
// names (comma-joined) and its single row's cells (JSON without the
// brackets); cells "" means the table must have no rows.
func checkTable(t *testing.T, ts *testServer, path, accept, columns, cells string) {
	t.Helper()
	code, _, body := ts.get(t, path, accept)
	var tab metav1.Table
	if err := json.Unmarshal(body, &tab); code != 200 || err != nil {
		t.Fatalf("%d %v: %s", code, err, body)
	}
	var cols []string
	for _, c := range tab.ColumnDefinitions {
		cols = append(cols, c.Name)
	}
	if strings.Join(cols, ",") != columns {
		t.Errorf("columns %v", cols)
	}
	if cells == "" {
		if len(tab.Rows) != 0 {
			t.Errorf("rows %v", tab.Rows)
		}
		return
	}
	if len(tab.Rows) != 1 {
		t.Fatalf("%d rows", len(tab.Rows))
	}
	got, _ := json.Marshal(tab.Rows[0].Cells)
	if string(got) != "["+cells+"]" {
		t.Errorf("cells %s", got)
	}
}
