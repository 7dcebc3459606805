package node

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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
}

// prepareVolumes makes every volume of the Pod under dir: emptyDir as a
// directory (or a tmpfs for medium Memory), configMap, secret and
// downwardAPI as files written from the API, hostPath as is.
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
			m, err := cs.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, v.ConfigMap.Name, metav1.GetOptions{})
			optional := v.ConfigMap.Optional != nil && *v.ConfigMap.Optional
			data := map[string][]byte{}
			switch {
			case err == nil:
				for k, s := range m.Data {
					data[k] = []byte(s)
				}
				for k, b := range m.BinaryData {
					data[k] = b
				}
			case apierrors.IsNotFound(err) && optional:
			default:
				return nil, &configError{fmt.Sprintf("configmap %q not found", v.ConfigMap.Name)}
			}
			if err := writeFiles(vd, data, v.ConfigMap.Items, v.ConfigMap.DefaultMode); err != nil {
				return nil, err
			}
			out[v.Name] = volume{path: vd}
		case v.Secret != nil:
			s, err := cs.CoreV1().Secrets(pod.Namespace).Get(ctx, v.Secret.SecretName, metav1.GetOptions{})
			optional := v.Secret.Optional != nil && *v.Secret.Optional
			data := map[string][]byte{}
			switch {
			case err == nil:
				data = s.Data
			case apierrors.IsNotFound(err) && optional:
			default:
				return nil, &configError{fmt.Sprintf("secret %q not found", v.Secret.SecretName)}
			}
			if err := writeFiles(vd, data, v.Secret.Items, v.Secret.DefaultMode); err != nil {
				return nil, err
			}
			out[v.Name] = volume{path: vd}
		case v.DownwardAPI != nil:
			data := map[string][]byte{}
			for _, f := range v.DownwardAPI.Items {
				if f.FieldRef == nil {
					continue
				}
				val, err := fieldValue(pod, f.FieldRef.FieldPath, "")
				if err != nil {
					if strings.HasPrefix(f.FieldRef.FieldPath, "metadata.labels") {
						val = labelsFile(pod.Labels)
					} else if strings.HasPrefix(f.FieldRef.FieldPath, "metadata.annotations") {
						val = labelsFile(pod.Annotations)
					} else {
						return nil, err
					}
				}
				data[f.Path] = []byte(val)
			}
			if err := writeFiles(vd, data, nil, v.DownwardAPI.DefaultMode); err != nil {
				return nil, err
			}
			out[v.Name] = volume{path: vd}
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

func labelsFile(m map[string]string) string {
	var lines []string
	for k, v := range m {
		lines = append(lines, fmt.Sprintf("%s=%q", k, v))
	}
	return strings.Join(lines, "\n")
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
