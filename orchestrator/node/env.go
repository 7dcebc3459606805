package node

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// configError is a container configuration the runner cannot satisfy
// (a missing ConfigMap key, say): the container waits with reason
// CreateContainerConfigError and this message, as the kubelet reports it.
type configError struct{ msg string }

func (e *configError) Error() string { return e.msg }

// envOf builds a container's environment as the kubelet does: the image's
// variables, then envFrom sources, then env entries in order (values may
// refer to earlier ones with $(NAME)).
func envOf(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod, c *corev1.Container, image []string, podIP string) ([]string, error) {
	var order []string
	vals := map[string]string{}
	set := func(k, v string) {
		if _, ok := vals[k]; !ok {
			order = append(order, k)
		}
		vals[k] = v
	}
	for _, kv := range image {
		if k, v, ok := strings.Cut(kv, "="); ok {
			set(k, v)
		}
	}
	for _, kv := range serviceEnv(ctx, cs, pod) {
		if k, v, ok := strings.Cut(kv, "="); ok {
			set(k, v)
		}
	}
	for _, from := range c.EnvFrom {
		data, err := sourceData(ctx, cs, pod.Namespace, from.ConfigMapRef, from.SecretRef)
		if err != nil {
			return nil, err
		}
		for k, v := range data {
			set(from.Prefix+k, v)
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			set(e.Name, expand(e.Value, vals))
			continue
		}
		v, err := valueFrom(ctx, cs, pod, c, e.ValueFrom, podIP)
		if err != nil {
			return nil, err
		}
		set(e.Name, v)
	}
	out := make([]string, 0, len(order))
	for _, k := range order {
		out = append(out, k+"="+vals[k])
	}
	return out, nil
}

func sourceData(ctx context.Context, cs kubernetes.Interface, ns string, cm *corev1.ConfigMapEnvSource, sec *corev1.SecretEnvSource) (map[string]string, error) {
	out := map[string]string{}
	switch {
	case cm != nil:
		m, err := getConfigMap(ctx, cs, ns, cm.Name, cm.Optional)
		if err != nil || m == nil {
			return out, err
		}
		for k, v := range m.Data {
			out[k] = v
		}
	case sec != nil:
		s, err := getSecret(ctx, cs, ns, sec.Name, sec.Optional)
		if err != nil || s == nil {
			return out, err
		}
		for k, v := range s.Data {
			out[k] = string(v)
		}
	}
	return out, nil
}

// getConfigMap reads the ConfigMap a Pod refers to: nil for a missing
// optional one; any other failure is the Pod's configuration error,
// worded as the kubelet words it.
func getConfigMap(ctx context.Context, cs kubernetes.Interface, ns, name string, optional *bool) (*corev1.ConfigMap, error) {
	m, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	switch {
	case err == nil:
		return m, nil
	case apierrors.IsNotFound(err) && optional != nil && *optional:
		return nil, nil
	case apierrors.IsNotFound(err):
		return nil, &configError{fmt.Sprintf("configmap %q not found", name)}
	default:
		return nil, &configError{fmt.Sprintf("configmap %q: %v", name, err)}
	}
}

// getSecret is getConfigMap for a Secret.
func getSecret(ctx context.Context, cs kubernetes.Interface, ns, name string, optional *bool) (*corev1.Secret, error) {
	s, err := cs.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	switch {
	case err == nil:
		return s, nil
	case apierrors.IsNotFound(err) && optional != nil && *optional:
		return nil, nil
	case apierrors.IsNotFound(err):
		return nil, &configError{fmt.Sprintf("secret %q not found", name)}
	default:
		return nil, &configError{fmt.Sprintf("secret %q: %v", name, err)}
	}
}

func valueFrom(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod, c *corev1.Container, src *corev1.EnvVarSource, podIP string) (string, error) {
	ns := pod.Namespace
	switch {
	case src.ConfigMapKeyRef != nil:
		r := src.ConfigMapKeyRef
		optional := r.Optional != nil && *r.Optional
		m, err := getConfigMap(ctx, cs, ns, r.Name, r.Optional)
		if err != nil || m == nil {
			return "", err
		}
		v, ok := m.Data[r.Key]
		if !ok && !optional {
			return "", &configError{fmt.Sprintf("couldn't find key %s in ConfigMap %s/%s", r.Key, ns, r.Name)}
		}
		return v, nil
	case src.SecretKeyRef != nil:
		r := src.SecretKeyRef
		optional := r.Optional != nil && *r.Optional
		s, err := getSecret(ctx, cs, ns, r.Name, r.Optional)
		if err != nil || s == nil {
			return "", err
		}
		v, ok := s.Data[r.Key]
		if !ok && !optional {
			return "", &configError{fmt.Sprintf("couldn't find key %s in Secret %s/%s", r.Key, ns, r.Name)}
		}
		return string(v), nil
	case src.FieldRef != nil:
		return fieldValue(pod, src.FieldRef.FieldPath, podIP)
	case src.ResourceFieldRef != nil:
		return resourceValue(c, src.ResourceFieldRef)
	}
	return "", nil
}

// fieldValue resolves a downward API field path.
func fieldValue(pod *corev1.Pod, path, podIP string) (string, error) {
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.podIP":
		return podIP, nil
	case "status.hostIP":
		return "127.0.0.1", nil
	}
	for _, m := range []struct {
		prefix string
		from   map[string]string
	}{{"metadata.labels['", pod.Labels}, {"metadata.annotations['", pod.Annotations}} {
		if strings.HasPrefix(path, m.prefix) && strings.HasSuffix(path, "']") {
			return m.from[strings.TrimSuffix(strings.TrimPrefix(path, m.prefix), "']")], nil
		}
	}
	return "", &configError{fmt.Sprintf("unsupported fieldRef %q", path)}
}

// resourceValue resolves a resourceFieldRef: limits.cpu is rounded up to
// whole cores (divisor 1), memory in bytes, as the kubelet does.
func resourceValue(c *corev1.Container, r *corev1.ResourceFieldSelector) (string, error) {
	var q = c.Resources.Limits
	name := strings.TrimPrefix(r.Resource, "limits.")
	if strings.HasPrefix(r.Resource, "requests.") {
		q = c.Resources.Requests
		name = strings.TrimPrefix(r.Resource, "requests.")
	}
	v, ok := q[corev1.ResourceName(name)]
	if !ok {
		return "0", nil
	}
	div := r.Divisor
	if div.IsZero() {
		if name == "cpu" {
			return strconv.FormatInt((v.MilliValue()+999)/1000, 10), nil
		}
		return strconv.FormatInt(v.Value(), 10), nil
	}
	if name == "cpu" {
		return strconv.FormatInt((v.MilliValue()+div.MilliValue()-1)/div.MilliValue(), 10), nil
	}
	return strconv.FormatInt((v.Value()+div.Value()-1)/div.Value(), 10), nil
}

// expand replaces $(NAME) with NAME's value when defined, leaves it alone
// when not, and turns $$ into $, as Kubernetes expands command, args and
// env values.
func expand(s string, vals map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+2+end]
			if v, ok := vals[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

// commandOf is the command line a container runs: its command (else the
// image's entrypoint) and its args (else, with no command, the image's
// cmd), with $(NAME) expanded from the environment.
func commandOf(c *corev1.Container, img ImageConfig, env []string) []string {
	vals := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vals[k] = v
		}
	}
	var cmd, args []string
	switch {
	case len(c.Command) > 0:
		cmd, args = c.Command, c.Args
	case len(c.Args) > 0:
		cmd, args = img.Entrypoint, c.Args
	default:
		cmd, args = img.Entrypoint, img.Cmd
	}
	var out []string
	for _, a := range append(append([]string(nil), cmd...), args...) {
		out = append(out, expand(a, vals))
	}
	return out
}

// serviceEnv is the environment the kubelet gives every container about
// Services: for each Service of the Pod's namespace with a cluster IP (and
// the kubernetes Service of default), NAME_SERVICE_HOST, NAME_SERVICE_PORT
// and NAME_SERVICE_PORT_PORTNAME, and with enableServiceLinks (the
// default) the Docker-link variables NAME_PORT, NAME_PORT_N_PROTO and its
// _PROTO, _PORT and _ADDR.
func serviceEnv(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod) []string {
	links := pod.Spec.EnableServiceLinks == nil || *pod.Spec.EnableServiceLinks
	var svcs []corev1.Service
	if l, err := cs.CoreV1().Services(pod.Namespace).List(ctx, metav1.ListOptions{}); err == nil {
		for _, s := range l.Items {
			if links || (pod.Namespace == "default" && s.Name == "kubernetes") {
				svcs = append(svcs, s)
			}
		}
	}
	if pod.Namespace != "default" {
		if k, err := cs.CoreV1().Services("default").Get(ctx, "kubernetes", metav1.GetOptions{}); err == nil {
			svcs = append(svcs, *k)
		}
	}
	var out []string
	for _, s := range svcs {
		ip := s.Spec.ClusterIP
		if ip == "" || ip == corev1.ClusterIPNone || len(s.Spec.Ports) == 0 {
			continue
		}
		name := strings.ToUpper(strings.ReplaceAll(s.Name, "-", "_"))
		first := s.Spec.Ports[0]
		out = append(out, name+"_SERVICE_HOST="+ip, name+"_SERVICE_PORT="+strconv.Itoa(int(first.Port)))
		for _, p := range s.Spec.Ports {
			if p.Name != "" {
				out = append(out, name+"_SERVICE_PORT_"+strings.ToUpper(strings.ReplaceAll(p.Name, "-", "_"))+"="+strconv.Itoa(int(p.Port)))
			}
		}
		if !links && s.Name != "kubernetes" {
			continue
		}
		proto := strings.ToLower(string(first.Protocol))
		if proto == "" {
			proto = "tcp"
		}
		out = append(out, name+"_PORT="+proto+"://"+net.JoinHostPort(ip, strconv.Itoa(int(first.Port))))
		for _, p := range s.Spec.Ports {
			pr := strings.ToLower(string(p.Protocol))
			if pr == "" {
				pr = "tcp"
			}
			prefix := name + "_PORT_" + strconv.Itoa(int(p.Port)) + "_" + strings.ToUpper(pr)
			out = append(out, prefix+"="+pr+"://"+net.JoinHostPort(ip, strconv.Itoa(int(p.Port))),
				prefix+"_PROTO="+pr, prefix+"_PORT="+strconv.Itoa(int(p.Port)), prefix+"_ADDR="+ip)
		}
	}
	return out
}
