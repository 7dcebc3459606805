package node

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"pkg.dev/pkg/orchestrator/runtime"
)

// volume is a Pod volume made ready on the host.
type volume struct {
	path  string // host path to bind, or "" for a tmpfs
	tmpfs bool
	// readOnly mounts it read-only whatever the volumeMount says (a
	// read-only claim).
	readOnly bool
	// tokens are the ServiceAccount tokens written into it, which the
	// Pod's worker renews (refreshTokens).
	tokens []*projectedToken
}

// projectedToken is a ServiceAccount token written into a projected
// volume, and when it was issued and expires as the API said.
type projectedToken struct {
	src             *corev1.ServiceAccountTokenProjection
	file            string // the token file's host path
	mode            os.FileMode
	issued, expires time.Time
	retryAt         time.Time
}

// prepareVolumes makes every volume of the Pod under dir: emptyDir as a
// directory (or a tmpfs for medium Memory), configMap, secret,
// downwardAPI and projected as files written from the API, hostPath as
// is.
func prepareVolumes(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod, dir string) (map[string]volume, error) {
	out := map[string]volume{}
	for _, v := range pod.Spec.Volumes {
		vd := filepath.Join(dir, "volumes", v.Name)
		switch {
		case v.EmptyDir != nil:
			if v.EmptyDir.Medium == corev1.StorageMediumMemory {
				out[v.Name] = volume{tmpfs: true}
				continue
			}
			if err := os.MkdirAll(vd, 0o777); err != nil {
				return nil, err
			}
			_ = os.Chmod(vd, 0o777)
			out[v.Name] = volume{path: vd}
		case v.HostPath != nil:
			p := v.HostPath.Path
			if v.HostPath.Type != nil && (*v.HostPath.Type == corev1.HostPathDirectoryOrCreate) {
				if err := os.MkdirAll(p, 0o755); err != nil {
					return nil, err
				}
			}
			if _, err := os.Stat(p); err != nil {
				return nil, &configError{fmt.Sprintf("hostPath %s: %v", p, err)}
			}
			out[v.Name] = volume{path: p}
		case v.ConfigMap != nil:
			data, err := configMapData(ctx, cs, pod.Namespace, v.ConfigMap.Name, v.ConfigMap.Optional)
			if err != nil {
				return nil, setUpFailed(v.Name, err)
			}
			if err := writeFiles(vd, data, v.ConfigMap.Items, v.ConfigMap.DefaultMode); err != nil {
				return nil, setUpFailed(v.Name, err)
			}
			out[v.Name] = volume{path: vd}
		case v.Secret != nil:
			data, err := secretData(ctx, cs, pod.Namespace, v.Secret.SecretName, v.Secret.Optional)
			if err != nil {
				return nil, setUpFailed(v.Name, err)
			}
			if err := writeFiles(vd, data, v.Secret.Items, v.Secret.DefaultMode); err != nil {
				return nil, setUpFailed(v.Name, err)
			}
			out[v.Name] = volume{path: vd}
		case v.DownwardAPI != nil:
			data, items, err := downwardData(pod, v.DownwardAPI.Items)
			if err != nil {
				return nil, err
			}
			if err := writeFiles(vd, data, items, v.DownwardAPI.DefaultMode); err != nil {
				return nil, err
			}
			out[v.Name] = volume{path: vd}
		case v.Projected != nil:
			tokens, err := writeProjected(ctx, cs, pod, v.Name, v.Projected, vd)
			if err != nil {
				var ce *configError
				if errors.As(err, &ce) && strings.HasPrefix(ce.msg, "projected volume") {
					return nil, err // a source pkg cannot serve: waiting will not help
				}
				return nil, setUpFailed(v.Name, err)
			}
			out[v.Name] = volume{path: vd, tokens: tokens}
		case v.PersistentVolumeClaim != nil:
			cv, err := claimVolume(ctx, cs, pod, &v)
			if err != nil {
				return nil, err
			}
			out[v.Name] = cv
		default:
			return nil, &configError{fmt.Sprintf("volume %q: this kind of volume is not supported by pkg's node agent yet", v.Name)}
		}
	}
	return out, nil
}

// labelsFile writes labels or annotations as the kubelet's downward API
// volume does: key="value" lines, sorted by key.
// setUpFailed is a volume whose source is missing (a ConfigMap, a
// Secret, a key): the Pod waits in ContainerCreating and the mount is
// tried again, as the kubelet's volume manager does, so the Pod starts
// once the source exists. The message is the kubelet's.
func setUpFailed(volume string, err error) error {
	return &mountWait{fmt.Sprintf("MountVolume.SetUp failed for volume %q : %v", volume, err)}
}

func labelsFile(m map[string]string) string {
	var lines []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		lines = append(lines, fmt.Sprintf("%s=%q", k, m[k]))
	}
	return strings.Join(lines, "\n")
}

// configMapData reads a ConfigMap's keys, text and binary; a missing
// optional one has none.
func configMapData(ctx context.Context, cs kubernetes.Interface, ns, name string, optional *bool) (map[string][]byte, error) {
	data := map[string][]byte{}
	m, err := getConfigMap(ctx, cs, ns, name, optional)
	if err != nil || m == nil {
		return data, err
	}
	for k, s := range m.Data {
		data[k] = []byte(s)
	}
	for k, b := range m.BinaryData {
		data[k] = b
	}
	return data, nil
}

// secretData reads a Secret's keys; a missing optional one has none.
func secretData(ctx context.Context, cs kubernetes.Interface, ns, name string, optional *bool) (map[string][]byte, error) {
	s, err := getSecret(ctx, cs, ns, name, optional)
	if err != nil || s == nil {
		return map[string][]byte{}, err
	}
	return s.Data, nil
}

// downwardData resolves a downward API volume's files (fieldRef and
// resourceFieldRef), as data keyed by path with items that keep each
// file's mode.
func downwardData(pod *corev1.Pod, files []corev1.DownwardAPIVolumeFile) (map[string][]byte, []corev1.KeyToPath, error) {
	data := map[string][]byte{}
	var items []corev1.KeyToPath
	for _, f := range files {
		var val string
		switch {
		case f.FieldRef != nil:
			var err error
			switch f.FieldRef.FieldPath {
			case "metadata.labels":
				val = labelsFile(pod.Labels)
			case "metadata.annotations":
				val = labelsFile(pod.Annotations)
			default:
				if val, err = fieldValue(pod, f.FieldRef.FieldPath, pod.Status.PodIP); err != nil {
					return nil, nil, err
				}
			}
		case f.ResourceFieldRef != nil:
			c := containerNamed(pod, f.ResourceFieldRef.ContainerName)
			if c == nil {
				return nil, nil, &configError{fmt.Sprintf("downward API file %s: no container named %q", f.Path, f.ResourceFieldRef.ContainerName)}
			}
			var err error
			if val, err = resourceValue(c, f.ResourceFieldRef); err != nil {
				return nil, nil, err
			}
		default:
			continue
		}
		data[f.Path] = []byte(val)
		items = append(items, corev1.KeyToPath{Key: f.Path, Path: f.Path, Mode: f.Mode})
	}
	return data, items, nil
}

// containerNamed finds a container or init container of the Pod.
func containerNamed(pod *corev1.Pod, name string) *corev1.Container {
	for _, list := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	return nil
}

// writeProjected writes a projected volume: the files of each source
// (ConfigMap, Secret, downward API, ServiceAccount token) into one
// directory, a source's items choosing keys, paths and modes as in a
// volume of its own, the projection's defaultMode for the others.
// Cluster trust bundles are refused by name: the bundled API server
// serves none.
func writeProjected(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod, name string, p *corev1.ProjectedVolumeSource, dir string) ([]*projectedToken, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var tokens []*projectedToken
	for i, src := range p.Sources {
		var (
			data  map[string][]byte
			items []corev1.KeyToPath
			err   error
		)
		switch {
		case src.ConfigMap != nil:
			data, err = configMapData(ctx, cs, pod.Namespace, src.ConfigMap.Name, src.ConfigMap.Optional)
			items = src.ConfigMap.Items
		case src.Secret != nil:
			data, err = secretData(ctx, cs, pod.Namespace, src.Secret.Name, src.Secret.Optional)
			items = src.Secret.Items
		case src.DownwardAPI != nil:
			data, items, err = downwardData(pod, src.DownwardAPI.Items)
		case src.ServiceAccountToken != nil:
			// A failure waits and is tried again (the kubelet's wording).
			var tok *projectedToken
			data, tok, err = serviceAccountToken(ctx, cs, pod, src.ServiceAccountToken)
			if err != nil {
				err = fmt.Errorf("failed to fetch token: %w", err)
			} else {
				tok.file = filepath.Join(dir, filepath.Clean("/"+src.ServiceAccountToken.Path))
				tok.mode = 0o644
				if p.DefaultMode != nil {
					tok.mode = os.FileMode(*p.DefaultMode)
				}
				tokens = append(tokens, tok)
			}
		case src.ClusterTrustBundle != nil:
			return nil, &configError{fmt.Sprintf("projected volume %q, source %d: clusterTrustBundle is not supported by pkg's node agent", name, i)}
		default:
			return nil, &configError{fmt.Sprintf("projected volume %q, source %d: this kind of source is not supported by pkg's node agent", name, i)}
		}
		if err != nil {
			return nil, err
		}
		if err := writeFiles(dir, data, items, p.DefaultMode); err != nil {
			return nil, err
		}
	}
	return tokens, nil
}

// serviceAccountToken requests the token of a serviceAccountToken
// projection, as the kubelet does: for the Pod's ServiceAccount, bound to
// the Pod, for the audience and lifetime the projection asks (the API
// server and an hour by default).
func serviceAccountToken(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod, src *corev1.ServiceAccountTokenProjection) (map[string][]byte, *projectedToken, error) {
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	secs := int64(3600)
	if src.ExpirationSeconds != nil {
		secs = *src.ExpirationSeconds
	}
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		ExpirationSeconds: &secs,
		BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
	}}
	if src.Audience != "" {
		tr.Spec.Audiences = []string{src.Audience}
	}
	issued := time.Now()
	out, err := cs.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, sa, tr, metav1.CreateOptions{})
	if err != nil {
		return nil, nil, err
	}
	tok := &projectedToken{src: src, issued: issued, expires: out.Status.ExpirationTimestamp.Time}
	return map[string][]byte{src.Path: []byte(out.Status.Token)}, tok, nil
}

// tokenRetry is how soon a failed token renewal is tried again.
var tokenRetry = 10 * time.Second

// refreshDue is when a token is renewed, as the kubelet's token manager
// renews it: at 80% of its lifetime, or after a day; sooner after a
// failed renewal (retryAt).
func (t *projectedToken) refreshDue() time.Time {
	if !t.retryAt.IsZero() {
		return t.retryAt
	}
	life := t.expires.Sub(t.issued)
	return t.issued.Add(min(life*8/10, 24*time.Hour))
}

// refreshTokens renews the Pod's projected ServiceAccount tokens when
// they are due, writing each new token over the old one atomically (a
// rename in the volume's directory, which the container sees), until
// stop is closed.
func refreshTokens(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod, vols map[string]volume, stop <-chan struct{}, log func(msg string, args ...any)) {
	var tokens []*projectedToken
	for _, v := range vols {
		tokens = append(tokens, v.tokens...)
	}
	if len(tokens) == 0 {
		return
	}
	for {
		next := tokens[0]
		for _, t := range tokens[1:] {
			if t.refreshDue().Before(next.refreshDue()) {
				next = t
			}
		}
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-time.After(time.Until(next.refreshDue())):
		}
		data, fresh, err := serviceAccountToken(ctx, cs, pod, next.src)
		if err == nil {
			err = writeAtomic(next.file, data[next.src.Path], next.mode)
		}
		if err != nil {
			log("renewing a ServiceAccount token", "pod", pod.Namespace+"/"+pod.Name, "file", next.file, "err", err)
			next.retryAt = time.Now().Add(tokenRetry)
			continue
		}
		next.issued, next.expires, next.retryAt = fresh.issued, fresh.expires, time.Time{}
	}
}

// writeAtomic replaces a file by a rename from a temporary one beside it.
func writeAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	if err := os.Chmod(tmp, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// writeFiles writes a volume's files: every key, or only the items (to
// their paths), with the default mode (0644 when unset).
func writeFiles(dir string, data map[string][]byte, items []corev1.KeyToPath, defaultMode *int32) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	mode := os.FileMode(0o644)
	if defaultMode != nil {
		mode = os.FileMode(*defaultMode)
	}
	type file struct {
		path string
		mode os.FileMode
		data []byte
	}
	var files []file
	if len(items) == 0 {
		for k, v := range data {
			files = append(files, file{k, mode, v})
		}
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			return &configError{fmt.Sprintf("couldn't find key %s in the volume's source", it.Key)}
		}
		m := mode
		if it.Mode != nil {
			m = os.FileMode(*it.Mode)
		}
		files = append(files, file{it.Path, m, v})
	}
	for _, f := range files {
		clean := filepath.Clean("/" + f.path)
		p := filepath.Join(dir, clean)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.data, f.mode); err != nil {
			return err
		}
		if err := os.Chmod(p, f.mode); err != nil {
			return err
		}
	}
	return nil
}

// mountsOf turns a container's volumeMounts into runtime mounts.
func mountsOf(c *corev1.Container, vols map[string]volume) ([]runtime.Mount, error) {
	var out []runtime.Mount
	for _, vm := range c.VolumeMounts {
		v, ok := vols[vm.Name]
		if !ok {
			return nil, &configError{fmt.Sprintf("volume %q of mount %s is not a volume of the Pod", vm.Name, vm.MountPath)}
		}
		if v.tmpfs {
			out = append(out, runtime.Mount{Type: "tmpfs", Destination: vm.MountPath, ReadOnly: vm.ReadOnly})
			continue
		}
		src := v.path
		if vm.SubPath != "" {
			src = filepath.Join(v.path, filepath.Clean("/"+vm.SubPath))
			if _, err := os.Stat(src); os.IsNotExist(err) {
				if err := os.MkdirAll(src, 0o777); err != nil {
					return nil, err
				}
			}
		}
		out = append(out, runtime.Mount{Source: src, Destination: vm.MountPath, ReadOnly: vm.ReadOnly || v.readOnly})
	}
	return out, nil
}
