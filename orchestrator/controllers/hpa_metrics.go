package controllers

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
)

// apiMetrics reads Pods' usage from the metrics.k8s.io API, as the
// autoscaler of kube-controller-manager does from metrics-server.
type apiMetrics struct {
	rest rest.Interface
}

var _ resourceMetrics = (*apiMetrics)(nil)

// podMetricsList is the part of a metrics.k8s.io/v1beta1 PodMetricsList
// the autoscaler reads.
type podMetricsList struct {
	Items []struct {
		Metadata   metav1.ObjectMeta `json:"metadata"`
		Timestamp  metav1.Time       `json:"timestamp"`
		Window     metav1.Duration   `json:"window"`
		Containers []struct {
			Name  string              `json:"name"`
			Usage corev1.ResourceList `json:"usage"`
		} `json:"containers"`
	} `json:"items"`
}

func (m *apiMetrics) podUsage(ctx context.Context, ns string, sel labels.Selector, res corev1.ResourceName, container string) (map[string]podMetric, error) {
	result := m.rest.Get().AbsPath("/apis/metrics.k8s.io/v1beta1/namespaces", ns, "pods").
		Param("labelSelector", sel.String()).Do(ctx)
	raw, err := result.Raw()
	if err != nil {
		return nil, result.Error() // the server's Status
	}
	var list podMetricsList
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("decoding PodMetricsList: %w", err)
	}
	out := make(map[string]podMetric, len(list.Items))
	for _, it := range list.Items {
		var sum int64
		found := false
		for _, c := range it.Containers {
			if container != "" && c.Name != container {
				continue
			}
			q, ok := c.Usage[res]
			if !ok {
				// A Pod missing a container's figure has no usable sample.
				found = false
				break
			}
			sum += q.MilliValue()
			found = true
		}
		if !found {
			continue
		}
		out[it.Metadata.Name] = podMetric{milli: sum, timestamp: it.Timestamp.Time, window: it.Window.Duration}
	}
	return out, nil
}

// hpaMetricName names a resource metric as the autoscaler's conditions
// and Events do.
func hpaMetricName(res corev1.ResourceName, container string, utilization bool) string {
	name := string(res) + " resource"
	if container != "" {
		name = fmt.Sprintf("%s container resource", res)
	}
	if utilization {
		name += " utilization (percentage of request)"
	}
	return name
}
