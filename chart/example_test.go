package chart_test

import (
	"fmt"
	"log"
	"os"

	"pkg.dev/pkg/chart"
)

// Load a chart from a directory (here one that Create scaffolds) and look
// at what it holds. Load reads .tgz archives the same way.
func ExampleLoad() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	path, err := chart.Create("web", dir)
	if err != nil {
		log.Fatal(err)
	}
	c, err := chart.Load(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.Name(), c.Metadata.Version, c.AppVersion(), c.Metadata.APIVersion)
	fmt.Println("replicaCount:", c.Values["replicaCount"])
	for _, t := range c.Templates {
		fmt.Println(t.Name)
	}
	// Output:
	// web 0.1.0 1.16.0 v2
	// replicaCount: 1
	// templates/NOTES.txt
	// templates/_helpers.tpl
	// templates/deployment.yaml
	// templates/hpa.yaml
	// templates/httproute.yaml
	// templates/ingress.yaml
	// templates/service.yaml
	// templates/serviceaccount.yaml
	// templates/tests/test-connection.yaml
}
