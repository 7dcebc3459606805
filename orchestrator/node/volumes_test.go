package node

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// Volumes written from the API: a projected volume gathers a ConfigMap's
// items, a Secret's keys and downward API files (labels sorted as the
// kubelet writes them, a resource limit) into one directory with their
// modes; a missing Secret or key makes the Pod wait for it, with the
// kubelet's FailedMount wording; a ServiceAccount token projection is
// refused by name.
func TestPrepareVolumesProjectedAndDownward(t *testing.T) {
	cs := fake.NewClientset(
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "conf", Namespace: "ns"}, Data: map[string]string{"greeting": "hello", "other": "x"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "creds", Namespace: "ns"}, Data: map[string][]byte{"password": []byte("s3cret")}},
	)
	mode := int32(0o400)
	defaultMode := int32(0o440)
	optional := true
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", Labels: map[string]string{"b": "2", "a": "1"}},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "main", Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")}}}},
			Volumes: []corev1.Volume{
				{Name: "all", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
					DefaultMode: &defaultMode,
					Sources: []corev1.VolumeProjection{
						{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "conf"}, Items: []corev1.KeyToPath{{Key: "greeting", Path: "conf/greeting"}}}},
						{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "creds"}}},
						{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "absent"}, Optional: &optional}},
						{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{
							{Path: "labels", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels"}},
							{Path: "name", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}, Mode: &mode},
							{Path: "mem", ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "main", Resource: "limits.memory"}},
						}}},
					},
				}}},
				{Name: "down", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{
					{Path: "annotations", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.annotations"}},
					{Path: "ns", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}},
				}}}},
			},
		},
	}
	dir := t.TempDir()
	vols, err := prepareVolumes(context.Background(), cs, pod, dir)
	if err != nil {
		t.Fatal(err)
	}
	for vol, files := range map[string]map[string]string{
		"all":  {"conf/greeting": "hello", "password": "s3cret", "labels": "a=\"1\"\nb=\"2\"", "name": "p", "mem": "67108864"},
		"down": {"annotations": "", "ns": "ns"},
	} {
		for name, want := range files {
			b, err := os.ReadFile(filepath.Join(vols[vol].path, name))
			if err != nil || string(b) != want {
				t.Errorf("%s/%s = %q, %v; want %q", vol, name, b, err, want)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(vols["all"].path, "other")); !os.IsNotExist(err) {
		t.Errorf("the ConfigMap key left out of items was written: %v", err)
	}
	for name, want := range map[string]os.FileMode{"name": 0o400, "password": 0o440, "conf/greeting": 0o440} {
		if fi, err := os.Stat(filepath.Join(vols["all"].path, name)); err != nil || fi.Mode().Perm() != want {
			t.Errorf("all/%s mode: %v %v, want %v", name, fi.Mode().Perm(), err, want)
		}
	}

	for _, c := range []struct {
		src  corev1.VolumeProjection
		want string
		wait bool // the Pod waits for the source (ContainerCreating)
	}{
		// This API server issues no tokens (no Authentication): the
		// mount waits, as the kubelet's does when a token request fails.
		{corev1.VolumeProjection{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}}, `MountVolume.SetUp failed for volume "bad" : failed to fetch token: `, true},
		{corev1.VolumeProjection{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "absent"}}}, `MountVolume.SetUp failed for volume "bad" : secret "absent" not found`, true},
		{corev1.VolumeProjection{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "conf"}, Items: []corev1.KeyToPath{{Key: "nokey", Path: "x"}}}}, `MountVolume.SetUp failed for volume "bad" : couldn't find key nokey`, true},
	} {
		bad := pod.DeepCopy()
		bad.Spec.Volumes = []corev1.Volume{{Name: "bad", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{c.src}}}}}
		_, err := prepareVolumes(context.Background(), cs, bad, t.TempDir())
		var ce *configError
		var mw *mountWait
		if err == nil || !strings.Contains(err.Error(), c.want) || errors.As(err, &mw) != c.wait || errors.As(err, &ce) == c.wait {
			t.Errorf("projected %+v: %v; want %q (waiting for the source: %v)", c.src, err, c.want, c.wait)
		}
	}
}
