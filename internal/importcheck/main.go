// Command importcheck enforces the import rules of DESIGN.md: which of this
// module's packages may import which, and that the render path never links
// Kubernetes or Helm libraries. `make lint` runs it; it exits non-zero and
// names every offending import.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

const module = "pkg.dev/pkg"

// rule says which import path prefixes a package tree must not import.
type rule struct {
	pkg    string
	forbid []string
}

var rules = []rule{
	{"chart", []string{module + "/render", module + "/release", module + "/repo", module + "/orchestrator", "k8s.io/", "helm.sh/"}},
	{"render", []string{module + "/release", module + "/repo", module + "/orchestrator", "k8s.io/", "helm.sh/"}},
	{"lint", []string{module + "/release", module + "/repo", module + "/orchestrator", "k8s.io/", "helm.sh/"}},
	{"repo", []string{module + "/render", module + "/release", module + "/orchestrator", "helm.sh/"}},
	{"release", []string{module + "/repo", module + "/orchestrator", "helm.sh/"}},
	{"orchestrator", []string{module + "/chart", module + "/render", module + "/release", module + "/repo", "helm.sh/"}},
}

type listed struct {
	ImportPath string
	Imports    []string
}

func main() {
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		fmt.Fprintf(os.Stderr, "importcheck: go list: %v\n", err)
		os.Exit(2)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	bad := 0
	for {
		var p listed
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			fmt.Fprintf(os.Stderr, "importcheck: decoding go list output: %v\n", err)
			os.Exit(2)
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		for _, r := range rules {
			if rel != r.pkg && !strings.HasPrefix(rel, r.pkg+"/") {
				continue
			}
			for _, imp := range p.Imports {
				for _, f := range r.forbid {
					if strings.HasPrefix(imp, f) {
						fmt.Printf("%s imports %s: forbidden by DESIGN.md\n", p.ImportPath, imp)
						bad++
					}
				}
			}
		}
	}
	if bad > 0 {
		os.Exit(1)
	}
}
