package apiserver

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// do sends a raw request and decodes a Status answer.
func (ts *testServer) do(t *testing.T, method, path, ctype, body string) (int, metav1.Status) {
	t.Helper()
	req, _ := http.NewRequest(method, ts.http.URL+path, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var st metav1.Status
	_ = json.Unmarshal(data, &st)
	return resp.StatusCode, st
}

func TestErrorStatuses(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	const cms = "/api/v1/namespaces/default/configmaps"
	tests := []struct {
		name, method, path, ctype, body string
		code                            int
		reason                          metav1.StatusReason
		message                         string
	}{
		{"malformed body", "POST", cms, "application/json", `{"metadata":`, 400, metav1.StatusReasonBadRequest, ""},
		{"wrong apiVersion", "POST", cms, "application/json", `{"apiVersion":"apps/v1","kind":"ConfigMap","metadata":{"name":"x"}}`, 400, metav1.StatusReasonBadRequest,
			"the API version in the data (apps/v1) does not match the expected API version (v1)"},
		{"wrong namespace", "POST", cms, "application/json", `{"metadata":{"name":"x","namespace":"kube-system"}}`, 400, metav1.StatusReasonBadRequest,
			"the namespace of the provided object does not match the namespace sent on the request"},
		{"no name", "POST", cms, "application/json", `{"metadata":{}}`, 422, metav1.StatusReasonInvalid, ""},
		{"bad namespace name", "POST", "/api/v1/namespaces", "", `{"metadata":{"name":"a.b"}}`, 422, metav1.StatusReasonInvalid, ""},
		{"protobuf of unknown data", "POST", cms, "application/vnd.kubernetes.protobuf", "junk", 400, metav1.StatusReasonBadRequest, ""},
		{"unsupported media", "POST", cms, "text/plain", "x", 415, metav1.StatusReasonUnsupportedMediaType, ""},
		{"post to an object", "POST", cms + "/x", "", "{}", 405, metav1.StatusReasonMethodNotAllowed, ""},
		{"create without namespace", "POST", "/api/v1/configmaps", "", "{}", 405, metav1.StatusReasonMethodNotAllowed, ""},
		{"put missing", "PUT", cms + "/x", "", `{"metadata":{"name":"x"}}`, 404, metav1.StatusReasonNotFound, `configmaps "x" not found`},
		{"put other name", "PUT", cms + "/x", "", `{"metadata":{"name":"y"}}`, 400, metav1.StatusReasonBadRequest, ""},
		{"unknown subresource", "GET", cms + "/x/status", "", "", 404, metav1.StatusReasonNotFound, ""},
		{"unknown resource", "GET", "/api/v1/widgets", "", "", 404, metav1.StatusReasonNotFound, "the server could not find the requested resource"},
		{"bad label selector", "GET", cms + "?labelSelector=a%3D%3D%3Db", "", "", 400, metav1.StatusReasonBadRequest, ""},
		{"bad continue", "GET", cms + "?limit=1&continue=zzz", "", "", 400, metav1.StatusReasonBadRequest, ""},
		{"too large", "POST", cms, "application/json", `{"data":{"x":"` + strings.Repeat("x", 3<<19) + `"}}`, 413, metav1.StatusReasonRequestEntityTooLarge, ""},
		{"wrong field type", "POST", "/apis/apps/v1/namespaces/default/deployments", "", `{"metadata":{"name":"x"},"spec":{"replicas":"three"}}`, 400, metav1.StatusReasonBadRequest, ""},
		{"strict unknown field", "POST", cms + "?fieldValidation=Strict", "", `{"metadata":{"name":"x"},"bogus":1}`, 400, metav1.StatusReasonBadRequest,
			`ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "bogus"`},
		{"sendInitialEvents without bookmarks", "GET", cms + "?watch=true&sendInitialEvents=true", "", "", 400, metav1.StatusReasonBadRequest, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, st := ts.do(t, tt.method, tt.path, tt.ctype, tt.body)
			if code != tt.code || st.Code != int32(tt.code) || st.Reason != tt.reason || st.Kind != "Status" || st.Status != metav1.StatusFailure {
				t.Fatalf("got %d %+v", code, st)
			}
			if tt.message != "" && st.Message != tt.message {
				t.Errorf("message %q, want %q", st.Message, tt.message)
			}
		})
	}
	req, _ := http.NewRequest("POST", ts.http.URL+cms, strings.NewReader(`{"metadata":{"name":"warned"},"bogus":1}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Warning") != `299 - "unknown field \"bogus\""` {
		t.Errorf("unknown field warning: %d %q", resp.StatusCode, resp.Header.Get("Warning"))
	}
	code, _, _ := ts.get(t, cms, "application/vnd.kubernetes.protobuf")
	if code != http.StatusNotAcceptable {
		t.Errorf("protobuf-only Accept: %d", code)
	}
}

func TestLegacyWatchPathAndTableWatch(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	req, _ := http.NewRequest("GET", ts.http.URL+"/api/v1/watch/namespaces?timeoutSeconds=1", nil)
	req.Header.Set("Accept", contentTypeTable)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		var ev struct {
			Type   string
			Object metav1.Table
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Type != "ADDED" || ev.Object.Kind != "Table" || len(ev.Object.Rows) != 1 {
			t.Fatalf("event %s", sc.Bytes())
		}
		n++
	}
	if n != len(SystemNamespaces()) {
		t.Errorf("%d events", n)
	}
}

func TestExpiredContinueAndFutureWatch(t *testing.T) {
	t.Parallel()
	// A server over a store with a tiny history, so that tokens expire.
	small := newSmallHistoryServer(t)
	code, _, body := small.get(t, "/api/v1/namespaces?limit=1", "")
	var list metav1.List
	if err := json.Unmarshal(body, &list); code != 200 || err != nil || list.Continue == "" {
		t.Fatalf("first page: %d %v %s", code, err, body)
	}
	for _, n := range []string{"a", "b", "c", "d"} {
		if c, st := small.do(t, "POST", "/api/v1/namespaces", "", `{"metadata":{"name":"`+n+`"}}`); c != 201 {
			t.Fatalf("create: %d %+v", c, st)
		}
	}
	c, st := small.do(t, "GET", "/api/v1/namespaces?limit=1&continue="+list.Continue, "", "")
	if c != 410 || st.Reason != metav1.StatusReasonExpired {
		t.Errorf("expired continue: %d %+v", c, st)
	}
	c, st = small.do(t, "GET", "/api/v1/namespaces?watch=true&resourceVersion=999999", "", "")
	if c != 504 || st.Reason != metav1.StatusReasonTimeout {
		t.Errorf("future watch: %d %+v", c, st)
	}
}
