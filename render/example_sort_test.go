package render_test

import (
	"fmt"

	"pkg.dev/pkg/render"
)

func ExampleSortManifests() {
	files := map[string]string{
		"web/templates/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n",
		"web/templates/service.yaml":    "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: web\n",
		"web/templates/migrate.yaml": `apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "-1"
`,
		"web/templates/NOTES.txt": "Thanks for installing web.",
	}
	hooks, manifests, err := render.SortManifests(files, render.InstallOrder())
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, h := range hooks {
		fmt.Println("hook:", h.Kind, h.Name, h.Events, h.Weight)
	}
	for _, m := range manifests {
		fmt.Println(m.Head.Kind, m.Head.Metadata.Name, "from", m.Name)
	}
	// Output:
	// hook: Job migrate [pre-install pre-upgrade] -1
	// ServiceAccount web from web/templates/service.yaml
	// Service web from web/templates/service.yaml
	// Deployment web from web/templates/deployment.yaml
}

func ExampleSplitManifests() {
	docs := render.SplitManifests("---\n# Source: a.yaml\nkind: A\n---\nkind: B\n")
	fmt.Printf("%q\n%q\n", docs["manifest-0"], docs["manifest-1"])
	// Output:
	// "# Source: a.yaml\nkind: A"
	// "kind: B"
}
