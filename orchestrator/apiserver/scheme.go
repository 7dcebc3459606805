package apiserver

import (
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// newScheme returns the Go types of the served built-in groups (and autoscaling/v1 for Scale), used to
// decode protobuf bodies, type-check objects (typedRoundTrip) and apply
// strategic merge patches. It is built by New rather than imported from
// client-go's scheme package, whose init registers every Kubernetes type in
// every program that links this package, the pkg binary's `pkg template`
// included.
func newScheme() *runtime.Scheme {
	sch := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme,
		appsv1.AddToScheme,
		batchv1.AddToScheme,
		autoscalingv1.AddToScheme,
		networkingv1.AddToScheme,
		rbacv1.AddToScheme,
		coordinationv1.AddToScheme,
		autoscalingv2.AddToScheme,
		policyv1.AddToScheme,
		schedulingv1.AddToScheme,
		storagev1.AddToScheme,
		discoveryv1.AddToScheme,
		apiextensionsv1.AddToScheme,
		// TokenRequest, which kubectl create token sends as protobuf.
		authenticationv1.AddToScheme,
		// The access reviews kubectl auth can-i sends.
		authorizationv1.AddToScheme,
	} {
		if err := add(sch); err != nil {
			// The generated registrations cannot fail; a failure is a
			// programming error in the list above.
			panic(err)
		}
	}
	return sch
}
