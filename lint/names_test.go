package lint

import (
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/validate/content"
	"k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// kubeNameCheck words a name problem with the Kubernetes validation
// functions and error types, choosing them by kind as Helm does.
func kubeNameCheck(kind, name string) string {
	var fn validation.ValidateNameFunc
	switch strings.ToLower(kind) {
	case "service":
		fn = validation.NameIsDNS1035Label
	case "namespace":
		fn = validation.ValidateNamespaceName
	case "serviceaccount":
		fn = validation.ValidateServiceAccountName
	case "certificatesigningrequest":
		fn = func(string, bool) []string { return nil }
	case "role", "clusterrole", "rolebinding", "clusterrolebinding":
		fn = func(n string, _ bool) []string { return content.IsPathSegmentName(n) }
	default:
		fn = validation.NameIsDNSSubdomain
	}
	var errs field.ErrorList
	for _, msg := range fn(name, false) {
		errs = append(errs, field.Invalid(field.NewPath("metadata").Child("name"), name, msg))
	}
	if len(errs) == 0 {
		return ""
	}
	return "object name does not conform to Kubernetes naming requirements: " + quote(name) + ": " + errs.ToAggregate().Error()
}

func quote(s string) string { return strconv.Quote(s) }

var nameCorpus = []string{
	"", "a", "a-b", "a.b", "-a", "a-", "A", "a_b", "1a", "a1", "my.service", "..", ".", "a/b", "a%b", "a/b%c",
	strings.Repeat("x", 63), strings.Repeat("x", 64), strings.Repeat("x", 253), strings.Repeat("x", 254),
	strings.Repeat("x", 63) + "." + strings.Repeat("y", 63), strings.Repeat("A", 300), "a..b", "ünicode", "a b",
}

var kindCorpus = []string{"", "ConfigMap", "Service", "service", "SERVICE", "Namespace", "ServiceAccount",
	"CertificateSigningRequest", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "Pod", "Widget"}

func TestNamesMatchKubernetes(t *testing.T) {
	r := newNameRules()
	for _, kind := range kindCorpus {
		for _, name := range nameCorpus {
			want := kubeNameCheck(kind, name)
			var got string
			if err := r.check(&K8sYamlStruct{Kind: kind, Metadata: k8sYamlMetadata{Name: name}}); err != nil {
				got = err.Error()
			}
			if got != want {
				t.Errorf("%s %q:\n got %s\nwant %s", kind, name, got, want)
			}
		}
	}
}

func FuzzNames(f *testing.F) {
	for i, n := range nameCorpus {
		f.Add(kindCorpus[i%len(kindCorpus)], n)
	}
	r := newNameRules()
	f.Fuzz(func(t *testing.T, kind, name string) {
		want := kubeNameCheck(kind, name)
		var got string
		if err := r.check(&K8sYamlStruct{Kind: kind, Metadata: k8sYamlMetadata{Name: name}}); err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("%s %q:\n got %s\nwant %s", kind, name, got, want)
		}
	})
}
