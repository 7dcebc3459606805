package apiserver

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// ServiceAccountMountPath is where a Pod's containers find their token,
// the cluster's CA and their namespace.
const ServiceAccountMountPath = "/var/run/secrets/kubernetes.io/serviceaccount"

// admitPodServiceAccount is kube-apiserver's ServiceAccount admission for
// a Pod being created: the ServiceAccount defaults to "default" (and
// spec.serviceAccount mirrors it), must exist (the default one is waited
// for a moment, as its controller may be making it), lends the Pod its
// imagePullSecrets when the Pod names none, and, unless the
// Pod or the ServiceAccount sets automountServiceAccountToken false, a
// projected kube-api-access volume is added and mounted read-only in
// every container.
func (s *Server) admitPodServiceAccount(ctx context.Context, res *Resource, o object) error {
	spec := mapOf(o, "spec")
	if spec == nil {
		return nil
	}
	name := str(spec, "serviceAccountName")
	if name == "" {
		name = str(spec, "serviceAccount")
	}
	if name == "" {
		name = "default"
	}
	spec["serviceAccountName"], spec["serviceAccount"] = name, name
	ns := str(o, "metadata", "namespace")
	sa, err := s.waitServiceAccount(ctx, ns, name)
	if apierrors.IsNotFound(err) {
		err = fmt.Errorf("serviceaccount %q not found", name)
	}
	if err != nil {
		podName := str(o, "metadata", "name")
		if podName == "" {
			podName = str(o, "metadata", "generateName")
		}
		return apierrors.NewForbidden(res.GroupResource(), podName, fmt.Errorf("error looking up service account %s/%s: %w", ns, name, err))
	}
	// A Pod that names no pull secrets gets its ServiceAccount's.
	if len(slice(spec, "imagePullSecrets")) == 0 && len(slice(sa, "imagePullSecrets")) > 0 {
		var secrets []any
		for _, ref := range slice(sa, "imagePullSecrets") {
			if n := str(ref, "name"); n != "" {
				secrets = append(secrets, map[string]any{"name": n})
			}
		}
		spec["imagePullSecrets"] = secrets
	}
	if v, ok := spec["automountServiceAccountToken"].(bool); ok && !v {
		return nil
	}
	if _, set := spec["automountServiceAccountToken"]; !set {
		if v, ok := sa["automountServiceAccountToken"].(bool); ok && !v {
			return nil
		}
	}
	containers := []map[string]any{}
	for _, key := range []string{"initContainers", "containers", "ephemeralContainers"} {
		for _, c := range slice(spec, key) {
			if m, ok := c.(map[string]any); ok {
				containers = append(containers, m)
			}
		}
	}
	// A Pod that mounts something there itself keeps it, as in Kubernetes.
	for _, c := range containers {
		for _, vm := range slice(c, "volumeMounts") {
			if str(vm, "mountPath") == ServiceAccountMountPath {
				return nil
			}
		}
	}
	vol := "kube-api-access-" + randomSuffix()
	spec["volumes"] = append(slice(spec, "volumes"), map[string]any{
		"name": vol,
		"projected": map[string]any{
			"defaultMode": int64(0o644),
			"sources": []any{
				map[string]any{"serviceAccountToken": map[string]any{"expirationSeconds": int64(kubeAPIAccessSeconds), "path": "token"}},
				map[string]any{"configMap": map[string]any{"name": "kube-root-ca.crt", "items": []any{map[string]any{"key": "ca.crt", "path": "ca.crt"}}}},
				map[string]any{"downwardAPI": map[string]any{"items": []any{map[string]any{"path": "namespace",
					"fieldRef": map[string]any{"apiVersion": "v1", "fieldPath": "metadata.namespace"}}}}},
			},
		},
	})
	for _, c := range containers {
		c["volumeMounts"] = append(slice(c, "volumeMounts"), map[string]any{"name": vol, "readOnly": true, "mountPath": ServiceAccountMountPath})
	}
	return nil
}

// waitServiceAccount reads a ServiceAccount; the default one, which its
// controller makes with the namespace, is waited for up to about two
// seconds, as kube-apiserver's admission retries it.
func (s *Server) waitServiceAccount(ctx context.Context, ns, name string) (object, error) {
	res := s.byGV["v1"]["serviceaccounts"]
	tries := 1
	if name == "default" {
		tries = 10
	}
	for i := 0; ; i++ {
		sa, _, err := s.getObject(ctx, res, ns, name)
		if err == nil || !apierrors.IsNotFound(err) || i+1 >= tries {
			return sa, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Duration(100+rand.IntN(100)) * time.Millisecond):
		}
	}
}
