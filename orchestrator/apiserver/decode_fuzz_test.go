package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"pkg.dev/pkg/orchestrator/store"
)

// fuzzServer is a server over a fresh store for a fuzz target, with its
// collector stopped; requests go straight to its handler through a
// recorder.
func fuzzServer(f *testing.F) (*Server, *store.Store) {
	f.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, f.TempDir(), store.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = st.Close() })
	srv, err := New(ctx, Config{Store: st})
	if err != nil {
		f.Fatal(err)
	}
	// Stop the collector: it writes in the background (say, deleting an
	// object whose owner does not exist), which would move the revision
	// while a refused request is being checked.
	if err := srv.Close(); err != nil {
		f.Fatal(err)
	}
	return srv, st
}

// serve sends one request to srv and returns the recorded answer.
func serve(srv *Server, method, path, ctype string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(string(body)))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	return rec
}

// checkAnswer fails unless rec is a 2xx, or a 4xx carrying a failure
// Status with the same code.
func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	switch c := rec.Code; {
	case c >= 200 && c < 300:
	case c >= 400 && c < 500:
		var st metav1.Status
		if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil || st.Kind != "Status" || st.Status != metav1.StatusFailure || int(st.Code) != c {
			t.Fatalf("%d answer is not a failure Status (%v): %s", c, err, rec.Body.String())
		}
	default:
		t.Fatalf("client input got %d: %s", c, rec.Body.String())
	}
}

// fuzzCollections are the collections the create target posts to.
var fuzzCollections = [...]string{
	"/api/v1/namespaces/default/configmaps",
	"/apis/apps/v1/namespaces/default/deployments",
	"/api/v1/namespaces/default/services",
	"/api/v1/namespaces",
}

// fuzzBodyTypes are the content types bodies are sent as.
var fuzzBodyTypes = [...]string{"application/json", "application/yaml", "application/vnd.kubernetes.protobuf", ""}

// FuzzDecodeCreate posts arbitrary bytes as the body of a create. Every
// answer must be a 2xx or a 4xx Status; a refused create must leave the
// store's revision alone, and an accepted one must be readable back.
func FuzzDecodeCreate(f *testing.F) {
	seeds := []string{
		`{"metadata":{"name":"a"},"data":{"k":"v"}}`,
		"metadata:\n  name: b\ndata:\n  k: v\n",
		`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}`,
		`{"metadata":{"name":"s"},"spec":{"ports":[{"port":80}],"clusterIP":"None"}}`,
		`{"metadata":{"generateName":"g-","labels":{"x":"y"}}}`,
		`{"metadata":{"name":"x","namespace":"other"}}`,
		`{"kind":"Secret","metadata":{"name":"x"}}`,
		`{"metadata":null}`,
		`{"metadata":{"name":1}}`,
		`{"metadata":{"name":"x","labels":[]}}`,
		`{"metadata":{"name":"x","ownerReferences":[{}]}}`,
		`{"metadata":{"name":"x","finalizers":["a/b"]}}`,
		`[]`, `null`, `"x"`, ``, "\x00", "- a\n- b\n", "a: &a [*a]\n",
	}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s))
	}
	srv, st := fuzzServer(f)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, sel uint8, body []byte) {
		path := fuzzCollections[int(sel)%len(fuzzCollections)]
		ctype := fuzzBodyTypes[int(sel/16)%len(fuzzBodyTypes)]
		before := st.Revision()
		rec := serve(srv, "POST", path, ctype, body)
		checkAnswer(t, rec)
		if rec.Code >= 400 {
			if after := st.Revision(); after != before {
				t.Fatalf("refused create (%d) moved the revision from %d to %d", rec.Code, before, after)
			}
			return
		}
		var created struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil || created.Metadata.Name == "" {
			t.Fatalf("created object without a name (%v): %s", err, rec.Body.String())
		}
		got := serve(srv, "GET", path+"/"+created.Metadata.Name, "", nil)
		if got.Code != http.StatusOK {
			t.Fatalf("created %s/%s but GET says %d: %s", path, created.Metadata.Name, got.Code, got.Body.String())
		}
		// Keep the store small and the names free for the next inputs;
		// namespaces are left alone, they end through their own finalizer.
		if path != fuzzCollections[3] {
			if del := serve(srv, "DELETE", path+"/"+created.Metadata.Name, "", nil); del.Code/100 != 2 {
				t.Fatalf("delete after create: %d %s", del.Code, del.Body.String())
			}
		}
		if _, err := st.List(ctx, "/registry/", store.ListOptions{}); err != nil {
			t.Fatalf("store list: %v", err)
		}
	})
}

// fuzzPatchTypes are the patch content types.
var fuzzPatchTypes = [...]string{
	"application/merge-patch+json",
	"application/json-patch+json",
	"application/strategic-merge-patch+json",
}

// FuzzDecodePatch sends arbitrary bytes as a patch of a stored ConfigMap
// or Deployment. Every answer must be a 2xx or a 4xx Status, a refused
// patch must leave the revision alone, and the object must stay readable
// under its own name.
func FuzzDecodePatch(f *testing.F) {
	seeds := []string{
		`{"data":{"k":"v2"}}`,
		`{"metadata":{"labels":{"a":"b"}}}`,
		`[{"op":"add","path":"/data/n","value":"1"}]`,
		`[{"op":"remove","path":"/metadata"}]`,
		`[{"op":"replace","path":"/kind","value":"Secret"}]`,
		`{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"j"}]}}}}`,
		`{"spec":{"template":{"spec":{"containers":[{"$patch":"delete","name":"c"}]}}}}`,
		`{"$patch":"replace"}`,
		`{"metadata":{"name":"other"}}`,
		`{"metadata":{"resourceVersion":"1"}}`,
		`{"metadata":null}`,
		`{"spec":{"replicas":"x"}}`,
		`[]`, `null`, `{}`, ``, `[{"op":"move","from":"/data","path":"/data/x"}]`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s))
	}
	srv, st := fuzzServer(f)
	targets := [...]struct{ path, body string }{
		{"/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"target"},"data":{"k":"v"}}`},
		{"/apis/apps/v1/namespaces/default/deployments", `{"metadata":{"name":"target"},"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}`},
	}
	for _, tg := range targets {
		if rec := serve(srv, "POST", tg.path, "application/json", []byte(tg.body)); rec.Code != http.StatusCreated {
			f.Fatalf("seeding %s: %d %s", tg.path, rec.Code, rec.Body.String())
		}
	}
	f.Fuzz(func(t *testing.T, sel uint8, body []byte) {
		tg := targets[int(sel)%len(targets)]
		pt := fuzzPatchTypes[int(sel/2)%len(fuzzPatchTypes)]
		before := st.Revision()
		rec := serve(srv, "PATCH", tg.path+"/target", pt, body)
		checkAnswer(t, rec)
		if rec.Code >= 400 {
			if after := st.Revision(); after != before {
				t.Fatalf("refused patch (%d) moved the revision from %d to %d", rec.Code, before, after)
			}
		}
		got := serve(srv, "GET", tg.path+"/target", "", nil)
		var o struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(got.Body.Bytes(), &o); got.Code != http.StatusOK || err != nil || o.Metadata.Name != "target" || o.Kind == "" {
			t.Fatalf("after patch %s %q: GET %d %v: %s", pt, body, got.Code, err, got.Body.String())
		}
	})
}

// TestFuzzServerAnswers keeps the fuzz helpers honest: a good create is a
// 201 and a bad one a Status.
func TestFuzzServerAnswers(t *testing.T) {
	ts := newTestServer(t)
	rec := serve(ts.srv, "POST", fuzzCollections[0], "application/json", []byte(`{"metadata":{"name":"ok"}}`))
	if rec.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", rec.Code, rec.Body.String())
	}
	rec = serve(ts.srv, "POST", fuzzCollections[0], "application/json", []byte(`{`))
	checkAnswer(t, rec)
	if rec.Code != http.StatusBadRequest {
		t.Fatal(fmt.Sprint("bad create: ", rec.Code))
	}
}
