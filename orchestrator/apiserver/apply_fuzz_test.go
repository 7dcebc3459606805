package apiserver

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// FuzzApply sends arbitrary bytes as a server-side apply patch of a
// stored Deployment, or of a new ConfigMap. Every answer must be a 2xx, a
// 4xx Status, or the 500 kube-apiserver gives for a field the schema
// does not declare; the Deployment must stay readable under its name.
func FuzzApply(f *testing.F) {
	seeds := []string{
		`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"target"},"spec":{"replicas":3}}`,
		"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: target\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        image: j\n",
		`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fresh"},"data":{"k":"v"}}`,
		`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fresh","managedFields":[{}]}}`,
		`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"other"}}`,
		`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"target","resourceVersion":"1"}}`,
		`{"apiVersion":"apps/v1","kind":"Deployment","spec":{"bogus":1}}`,
		`{"apiVersion":"apps/v1","kind":"Deployment","spec":{"replicas":"x"}}`,
		`[]`, `null`, `{}`, ``, `{`, "- a\n- b",
	}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s))
	}
	srv, _ := fuzzServer(f)
	deploy := "/apis/apps/v1/namespaces/default/deployments"
	body := `{"metadata":{"name":"target"},"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}`
	if rec := serve(srv, "POST", deploy, "application/json", []byte(body)); rec.Code != http.StatusCreated {
		f.Fatalf("seeding: %d %s", rec.Code, rec.Body.String())
	}
	f.Fuzz(func(t *testing.T, sel uint8, patch []byte) {
		path := deploy + "/target"
		if sel%2 == 1 {
			path = "/api/v1/namespaces/default/configmaps/fresh"
		}
		q := "?fieldManager=fuzz"
		if sel%4 >= 2 {
			q += "&force=true"
		}
		rec := serve(srv, "PATCH", path+q, "application/apply-patch+yaml", patch)
		if rec.Code == http.StatusInternalServerError {
			var st metav1.Status
			if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil || !strings.HasPrefix(st.Message, "failed to create typed patch object") {
				t.Fatalf("apply of %q: 500 %s", patch, rec.Body.String())
			}
		} else {
			checkAnswer(t, rec)
		}
		got := serve(srv, "GET", deploy+"/target", "", nil)
		var o struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(got.Body.Bytes(), &o); got.Code != http.StatusOK || err != nil || o.Metadata.Name != "target" {
			t.Fatalf("after apply %q: GET %d %v: %s", patch, got.Code, err, got.Body.String())
		}
	})
}
