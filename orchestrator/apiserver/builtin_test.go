package apiserver

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestBuiltinKinds creates one object of each kind of builtinResources with
// the typed client and checks its server-side Table.
func TestBuiltinKinds(t *testing.T) {
	t.Parallel()
	fixed := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ts := newTestServerWith(t, func(c *Config) { c.Clock = func() time.Time { return fixed } })
	ctx := context.Background()
	c := ts.client
	om := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name} }
	creates := []struct {
		name string
		do   func() error
	}{
		{"pv", func() error {
			_, err := c.CoreV1().PersistentVolumes().Create(ctx, &corev1.PersistentVolume{ObjectMeta: om("pv1"), Spec: corev1.PersistentVolumeSpec{
				Capacity:    corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
				StorageClassName:       "fast",
				PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/tmp"}},
			}}, metav1.CreateOptions{})
			return err
		}},
		{"node", func() error {
			n, err := c.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{"node-role.kubernetes.io/control-plane": ""}}}, metav1.CreateOptions{})
			if err != nil {
				return err
			}
			n.Status = corev1.NodeStatus{
				Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
				NodeInfo:   corev1.NodeSystemInfo{KubeletVersion: "v1.37.0"},
			}
			_, err = c.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
			return err
		}},
		{"limitrange", func() error {
			_, err := c.CoreV1().LimitRanges("default").Create(ctx, &corev1.LimitRange{ObjectMeta: om("lr")}, metav1.CreateOptions{})
			return err
		}},
		{"quota", func() error {
			q, err := c.CoreV1().ResourceQuotas("default").Create(ctx, &corev1.ResourceQuota{ObjectMeta: om("q"), Spec: corev1.ResourceQuotaSpec{
				Hard: corev1.ResourceList{"requests.cpu": resource.MustParse("1"), "limits.cpu": resource.MustParse("2")},
			}}, metav1.CreateOptions{})
			if err != nil {
				return err
			}
			q.Status = corev1.ResourceQuotaStatus{Hard: q.Spec.Hard, Used: corev1.ResourceList{"requests.cpu": resource.MustParse("500m")}}
			_, err = c.CoreV1().ResourceQuotas("default").UpdateStatus(ctx, q, metav1.UpdateOptions{})
			return err
		}},
		{"controllerrevision", func() error {
			// The owner exists, or the garbage collector would take the
			// revision.
			sts, err := c.AppsV1().StatefulSets("default").Create(ctx, &appsv1.StatefulSet{ObjectMeta: om("db"), Spec: appsv1.StatefulSetSpec{
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "db"}},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "db", Image: "postgres"}}}},
			}}, metav1.CreateOptions{})
			if err != nil {
				return err
			}
			yes := true
			_, err = c.AppsV1().ControllerRevisions("default").Create(ctx, &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: "cr",
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "db", UID: sts.UID, Controller: &yes}}}, Revision: 3}, metav1.CreateOptions{})
			return err
		}},
		{"hpa", func() error {
			util := int32(80)
			_, err := c.AutoscalingV2().HorizontalPodAutoscalers("default").Create(ctx, &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: om("h"), Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: "web", APIVersion: "apps/v1"},
				MaxReplicas:    5,
				Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
					Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &util}}}},
			}}, metav1.CreateOptions{})
			return err
		}},
		{"ingressclass", func() error {
			_, err := c.NetworkingV1().IngressClasses().Create(ctx, &networkingv1.IngressClass{ObjectMeta: om("nginx"), Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"}}, metav1.CreateOptions{})
			return err
		}},
		{"networkpolicy", func() error {
			_, err := c.NetworkingV1().NetworkPolicies("default").Create(ctx, &networkingv1.NetworkPolicy{ObjectMeta: om("np"), Spec: networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}}, metav1.CreateOptions{})
			return err
		}},
		{"pdb", func() error {
			one := intstr.FromInt32(1)
			_, err := c.PolicyV1().PodDisruptionBudgets("default").Create(ctx, &policyv1.PodDisruptionBudget{ObjectMeta: om("pdb"), Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: &one}}, metav1.CreateOptions{})
			return err
		}},
		{"storageclass", func() error {
			_, err := c.StorageV1().StorageClasses().Create(ctx, &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "standard",
				Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}}, Provisioner: "rancher.io/local-path"}, metav1.CreateOptions{})
			return err
		}},
		{"rolebinding", func() error {
			_, err := c.RbacV1().RoleBindings("default").Create(ctx, &rbacv1.RoleBinding{ObjectMeta: om("rb"),
				RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "view"},
				Subjects: []rbacv1.Subject{{Kind: "User", Name: "alice"}, {Kind: "ServiceAccount", Name: "app", Namespace: "default"}}}, metav1.CreateOptions{})
			return err
		}},
		{"clusterrole", func() error {
			_, err := c.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: om("view")}, metav1.CreateOptions{})
			return err
		}},
		{"endpointslice", func() error {
			port := int32(80)
			_, err := c.DiscoveryV1().EndpointSlices("default").Create(ctx, &discoveryv1.EndpointSlice{ObjectMeta: om("es"), AddressType: discoveryv1.AddressTypeIPv4,
				Ports:     []discoveryv1.EndpointPort{{Port: &port}},
				Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}}, {Addresses: []string{"10.0.0.2"}}}}, metav1.CreateOptions{})
			return err
		}},
	}
	for _, cr := range creates {
		if err := cr.do(); err != nil {
			t.Fatalf("%s: %v", cr.name, err)
		}
	}
	accept := "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
	tests := []struct {
		path, columns, cells string
	}{
		{"/api/v1/persistentvolumes", "Name,Capacity,Access Modes,Reclaim Policy,Status,Claim,StorageClass,VolumeAttributesClass,Reason,Age,VolumeMode",
			`"pv1","1Gi","RWO","Retain","","","fast","\u003cunset\u003e","","0s","Filesystem"`},
		{"/api/v1/nodes", "Name,Status,Roles,Age,Version,Internal-IP,External-IP,OS-Image,Kernel-Version,Container-Runtime",
			`"n1","Ready","control-plane","0s","v1.37.0","\u003cnone\u003e","\u003cnone\u003e","\u003cunknown\u003e","\u003cunknown\u003e","\u003cunknown\u003e"`},
		{"/api/v1/namespaces/default/limitranges", "Name,Created At", `"lr","2026-01-02T03:04:05Z"`},
		{"/api/v1/namespaces/default/resourcequotas", "Name,Age,Request,Limit", `"q","0s","requests.cpu: 500m/1","limits.cpu: 0/2"`},
		{"/apis/apps/v1/namespaces/default/controllerrevisions", "Name,Controller,Revision,Age", `"cr","statefulset.apps/db",3,"0s"`},
		{"/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers", "Name,Reference,Targets,MinPods,MaxPods,Replicas,Age",
			`"h","Deployment/web","cpu: \u003cunknown\u003e/80%","1",5,0,"0s"`},
		{"/apis/networking.k8s.io/v1/ingressclasses", "Name,Controller,Parameters,Age", `"nginx","k8s.io/ingress-nginx","\u003cnone\u003e","0s"`},
		{"/apis/networking.k8s.io/v1/namespaces/default/networkpolicies", "Name,Pod-Selector,Age", `"np","app=web","0s"`},
		{"/apis/policy/v1/namespaces/default/poddisruptionbudgets", "Name,Min Available,Max Unavailable,Allowed Disruptions,Age", `"pdb","1","N/A",0,"0s"`},
		{"/apis/storage.k8s.io/v1/storageclasses", "Name,Provisioner,ReclaimPolicy,VolumeBindingMode,AllowVolumeExpansion,Age",
			`"standard (default)","rancher.io/local-path","Delete","Immediate","false","0s"`},
		{"/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", "Name,AddressType,Ports,Endpoints,Age", `"es","IPv4","80","10.0.0.1,10.0.0.2","0s"`},
		{"/apis/apiextensions.k8s.io/v1/customresourcedefinitions", "Name,Created At", ""},
		{"/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings", "Name,Role,Age,Users,Groups,ServiceAccounts", `"rb","ClusterRole/view","0s","alice","","default/app"`},
		{"/apis/rbac.authorization.k8s.io/v1/clusterroles", "Name,Created At", `"view","2026-01-02T03:04:05Z"`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			checkTable(t, ts, tt.path, accept, tt.columns, tt.cells)
		})
	}
	_, lists, err := c.Discovery().ServerGroupsAndResources()
	if err != nil {
		t.Fatal(err)
	}
	short := map[string]string{}
	for _, l := range lists {
		for _, r := range l.APIResources {
			short[l.GroupVersion+"/"+r.Name] = strings.Join(r.ShortNames, ",")
		}
	}
	for res, want := range map[string]string{
		"v1/persistentvolumes": "pv", "v1/nodes": "no", "v1/limitranges": "limits", "v1/resourcequotas": "quota",
		"autoscaling/v2/horizontalpodautoscalers": "hpa", "networking.k8s.io/v1/networkpolicies": "netpol",
		"policy/v1/poddisruptionbudgets": "pdb", "storage.k8s.io/v1/storageclasses": "sc",
		"apiextensions.k8s.io/v1/customresourcedefinitions": "crd,crds", "discovery.k8s.io/v1/endpointslices": "",
		"apps/v1/controllerrevisions": "", "networking.k8s.io/v1/ingressclasses": "", "v1/nodes/status": "",
	} {
		got, ok := short[res]
		if !ok || got != want {
			t.Errorf("%s: short names %q (served %v), want %q", res, got, ok, want)
		}
	}
}
