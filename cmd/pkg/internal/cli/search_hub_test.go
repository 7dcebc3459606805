package cli_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// hubResults is a Monocular search answer as Artifact Hub gives it: one
// result with a package URL, one (as from a Monocular instance) without,
// one with a description longer than the default column.
const hubResults = `{"data":[
{"id":"bitnami/nginx","artifactHub":{"packageUrl":"https://artifacthub.io/packages/helm/bitnami/nginx"},"type":"chart",
 "attributes":{"name":"nginx","repo":{"name":"bitnami","url":"https://charts.bitnami.com/bitnami"},"description":"NGINX Open Source is a web server that can be also used as a reverse proxy, load balancer, and HTTP cache."},
 "relationships":{"latestChartVersion":{"data":{"version":"18.2.4","app_version":"1.27.2"}}}},
{"id":"stable/nginx-ingress","type":"chart",
 "attributes":{"name":"nginx-ingress","repo":{"name":"stable","url":"https://charts.helm.sh/stable"},"description":"An nginx Ingress controller"},
 "relationships":{"latestChartVersion":{"data":{"version":"1.41.3","app_version":"v0.34.1"}}}},
{"id":"x/plain","type":"chart","attributes":{"name":"plain","repo":{"name":"x","url":"https://x.example"},"description":""},
 "relationships":{"latestChartVersion":{"data":{"version":"0.1.0","app_version":""}}}}
]}`

// TestSearchHubMatchesHelm runs `search hub` with helm and pkg against
// one hub (a real HTTP server answering the Monocular search API) and
// compares what they print, in every output form, for results, for none
// and for a failing hub.
func TestSearchHubMatchesHelm(t *testing.T) {
	helmRef(t)
	var queries []string
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/broken/api/chartsvc/v1/charts/search" {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		if r.URL.Path != "/api/chartsvc/v1/charts/search" {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query().Get("q")
		queries = append(queries, q)
		if q == "nothing" {
			fmt.Fprint(w, `{"data":[]}`)
			return
		}
		fmt.Fprint(w, hubResults)
	}))
	defer hub.Close()
	sb := newSandbox(t)
	ep := "--endpoint=" + hub.URL
	for _, args := range [][]string{
		{"search", "hub", "nginx", ep},
		{"search", "hub", "web", "server", ep, "--list-repo-url"},
		{"search", "hub", "nginx", ep, "--max-col-width", "20"},
		{"search", "hub", "nginx", ep, "-o", "json"},
		{"search", "hub", "nginx", ep, "-o", "yaml"},
		{"search", "hub", "nothing", ep},
		{"search", "hub", "nothing", ep, "-o", "json"},
		{"search", "hub", "nothing", ep, "--fail-on-no-result"},
		{"search", "hub", "nginx", "--endpoint=" + hub.URL + "/broken"},
		{"search", "hub", "nginx", "--endpoint=not-a-url"},
	} {
		h, p := runHelm(t, sb, t.TempDir(), "", args...), runPkg(t, sb, "", args...)
		name := strings.Join(args[2:], " ")
		if (h.code == 0) != (p.code == 0) {
			t.Errorf("%s: helm exits %d (%s), pkg %d (%s)", name, h.code, h.stderr, p.code, p.stderr)
			continue
		}
		if h.stdout != p.stdout {
			t.Errorf("%s:\nhelm:\n%s\npkg:\n%s", name, h.stdout, p.stdout)
		}
	}
	if !strings.Contains(strings.Join(queries, "|"), "web server") {
		t.Errorf("the keywords were not joined into one query: %q", queries)
	}
}
