package apiserver

import (
	"context"
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestBadInput sends malformed or disallowed requests over HTTP and checks
// that each gets the right code and reason, leaves the store at the same
// revision, and that the server still answers the next request.
func TestBadInput(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	const (
		cms    = "/api/v1/namespaces/default/configmaps"
		svcs   = "/api/v1/namespaces/default/services"
		deploy = "/apis/apps/v1/namespaces/default/deployments"
	)
	if c, st := ts.do(t, "POST", cms, "application/json", `{"metadata":{"name":"present"},"data":{"a":"1"}}`); c != 201 {
		t.Fatalf("seed: %d %+v", c, st)
	}
	big := `{"metadata":{"name":"big"},"data":{"x":"` + strings.Repeat("x", 2<<20) + `"}}`
	tests := []struct {
		name, method, path, ctype, body string
		code                            int
		reason                          metav1.StatusReason
	}{
		{"malformed json", "POST", cms, "application/json", `{"metadata":{"name":"x"},`, 400, metav1.StatusReasonBadRequest},
		{"json not an object", "POST", cms, "application/json", `[1,2,3]`, 400, metav1.StatusReasonBadRequest},
		{"json null", "POST", cms, "application/json", `null`, 400, metav1.StatusReasonBadRequest},
		{"empty body", "POST", cms, "application/json", ``, 400, metav1.StatusReasonBadRequest},
		{"malformed yaml", "POST", cms, "application/yaml", "metadata:\n  name: x\n data: [\n", 400, metav1.StatusReasonBadRequest},
		{"yaml with tabs", "POST", cms, "application/yaml", "metadata:\n\tname: x\n", 400, metav1.StatusReasonBadRequest},
		{"yaml scalar", "POST", cms, "application/yaml", "just a string\n", 400, metav1.StatusReasonBadRequest},
		{"json nested too deep", "POST", cms, "application/json", `{"metadata":{"name":"x"},"data":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`, 400, metav1.StatusReasonBadRequest},
		{"yaml nested too deep", "POST", cms, "application/yaml", "metadata:\n  name: x\ndata: " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "\n", 400, metav1.StatusReasonBadRequest},
		{"yaml alias bomb", "POST", cms, "application/yaml", aliasBomb(), 400, metav1.StatusReasonBadRequest},
		{"number out of range", "POST", cms, "application/json", `{"metadata":{"name":"x","generation":1e400}}`, 400, metav1.StatusReasonBadRequest},
		{"protobuf garbage", "POST", cms, "application/vnd.kubernetes.protobuf", "k8s\x00\x0a\x02v1", 400, metav1.StatusReasonBadRequest},
		{"unknown group", "POST", "/apis/nope.example.com/v1/namespaces/default/widgets", "application/json", `{"metadata":{"name":"x"}}`, 404, metav1.StatusReasonNotFound},
		{"unknown version", "POST", "/apis/apps/v7/namespaces/default/deployments", "application/json", `{"metadata":{"name":"x"}}`, 404, metav1.StatusReasonNotFound},
		{"unknown core version", "GET", "/api/v2/namespaces/default/configmaps", "", "", 404, metav1.StatusReasonNotFound},
		{"unknown resource", "POST", "/api/v1/namespaces/default/widgets", "application/json", `{"metadata":{"name":"x"}}`, 404, metav1.StatusReasonNotFound},
		{"too large", "POST", cms, "application/json", big, 413, metav1.StatusReasonRequestEntityTooLarge},
		{"too large put", "PUT", cms + "/present", "application/json", big, 413, metav1.StatusReasonRequestEntityTooLarge},
		{"too large patch", "PATCH", cms + "/present", "application/merge-patch+json", big, 413, metav1.StatusReasonRequestEntityTooLarge},
		{"uppercase name", "POST", cms, "application/json", `{"metadata":{"name":"Upper"}}`, 422, metav1.StatusReasonInvalid},
		{"name too long", "POST", cms, "application/json", `{"metadata":{"name":"` + strings.Repeat("a", 254) + `"}}`, 422, metav1.StatusReasonInvalid},
		{"name with a slash", "POST", cms, "application/json", `{"metadata":{"name":"a/b"}}`, 422, metav1.StatusReasonInvalid},
		{"dotted service name", "POST", svcs, "application/json", `{"metadata":{"name":"a.b"},"spec":{"ports":[{"port":80}]}}`, 422, metav1.StatusReasonInvalid},
		{"service name too long", "POST", svcs, "application/json", `{"metadata":{"name":"` + strings.Repeat("a", 64) + `"},"spec":{"ports":[{"port":80}]}}`, 422, metav1.StatusReasonInvalid},
		{"dotted namespace", "POST", "/api/v1/namespaces", "application/json", `{"metadata":{"name":"a.b"}}`, 422, metav1.StatusReasonInvalid},
		{"uppercase namespace", "POST", "/api/v1/namespaces", "application/json", `{"metadata":{"name":"Team"}}`, 422, metav1.StatusReasonInvalid},
		{"kind mismatch", "POST", cms, "application/json", `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x"}}`, 400, metav1.StatusReasonBadRequest},
		{"kind of another group", "POST", deploy, "application/json", `{"apiVersion":"apps/v1","kind":"ConfigMap","metadata":{"name":"x"}}`, 400, metav1.StatusReasonBadRequest},
		{"apiVersion mismatch", "POST", deploy, "application/json", `{"apiVersion":"apps/v1beta1","kind":"Deployment","metadata":{"name":"x"}}`, 400, metav1.StatusReasonBadRequest},
		{"namespace mismatch", "POST", cms, "application/json", `{"metadata":{"name":"x","namespace":"other"}}`, 400, metav1.StatusReasonBadRequest},
		{"namespace mismatch on put", "PUT", cms + "/present", "application/json", `{"metadata":{"name":"present","namespace":"other"}}`, 400, metav1.StatusReasonBadRequest},
		{"kind mismatch on put", "PUT", cms + "/present", "application/json", `{"kind":"Secret","apiVersion":"v1","metadata":{"name":"present"}}`, 400, metav1.StatusReasonBadRequest},
		{"wrong content type", "POST", cms, "text/plain", `{"metadata":{"name":"x"}}`, 415, metav1.StatusReasonUnsupportedMediaType},
		{"wrong patch content type", "PATCH", cms + "/present", "application/json", `{"data":{"a":"2"}}`, 415, metav1.StatusReasonUnsupportedMediaType},
		{"malformed merge patch", "PATCH", cms + "/present", "application/merge-patch+json", `{"data":`, 400, metav1.StatusReasonBadRequest},
		{"malformed json patch", "PATCH", cms + "/present", "application/json-patch+json", `[{"op":`, 400, metav1.StatusReasonBadRequest},
		{"json patch test without a value", "PATCH", cms + "/present", "application/json-patch+json", `[{"op":"test","path":""}]`, 422, metav1.StatusReasonInvalid},
		{"patch changing the name", "PATCH", cms + "/present", "application/merge-patch+json", `{"metadata":{"name":"other"}}`, 400, metav1.StatusReasonBadRequest},
		{"patch changing the kind", "PATCH", cms + "/present", "application/merge-patch+json", `{"kind":"Secret"}`, 400, metav1.StatusReasonBadRequest},
		{"invalid label key", "POST", cms, "application/json", `{"metadata":{"name":"x","labels":{"a b":"c"}}}`, 422, metav1.StatusReasonInvalid},
		{"invalid label value", "POST", cms, "application/json", `{"metadata":{"name":"x","labels":{"a":"-c"}}}`, 422, metav1.StatusReasonInvalid},
		{"invalid annotation key", "POST", cms, "application/json", `{"metadata":{"name":"x","annotations":{"/x":"c"}}}`, 422, metav1.StatusReasonInvalid},
		{"annotations too large", "POST", cms, "application/json", `{"metadata":{"name":"x","annotations":{"a":"` + strings.Repeat("x", 300<<10) + `"}}}`, 422, metav1.StatusReasonInvalid},
		{"patch to an invalid label", "PATCH", cms + "/present", "application/merge-patch+json", `{"metadata":{"labels":{"a b":"c"}}}`, 422, metav1.StatusReasonInvalid},
	}
	for _, tt := range tests {
		before := ts.srv.cfg.Store.Revision()
		code, st := ts.do(t, tt.method, tt.path, tt.ctype, tt.body)
		if code != tt.code || st.Reason != tt.reason {
			t.Errorf("%s: got %d %q (%s), want %d %q", tt.name, code, st.Reason, st.Message, tt.code, tt.reason)
		}
		if st.Kind != "Status" || st.Status != metav1.StatusFailure || int(st.Code) != code {
			t.Errorf("%s: not a failure Status: %+v", tt.name, st)
		}
		if after := ts.srv.cfg.Store.Revision(); after != before {
			t.Errorf("%s: store revision moved from %d to %d", tt.name, before, after)
		}
		cm, err := ts.client.CoreV1().ConfigMaps("default").Get(context.Background(), "present", metav1.GetOptions{})
		if err != nil || cm.Data["a"] != "1" || len(cm.Labels) != 0 {
			t.Fatalf("%s: next request: %v %+v", tt.name, err, cm)
		}
	}
}

// aliasBomb is a YAML document whose aliases expand to a billion strings.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
	prev := "a"
	for n := 'b'; n <= 'j'; n++ {
		fmt.Fprintf(&b, "%c: &%c [%s]\n", n, n, strings.TrimSuffix(strings.Repeat("*"+prev+",", 9), ","))
		prev = string(n)
	}
	b.WriteString("metadata:\n  name: lol\n")
	return b.String()
}
