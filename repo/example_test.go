package repo_test

import (
	"fmt"

	"pkg.dev/pkg/repo"
)

// An index is parsed as Helm parses it: versions sorted newest first,
// invalid entries dropped with a warning.
func ExampleParseIndex() {
	data := []byte(`apiVersion: v1
entries:
  web:
  - name: web
    version: 1.2.0
    urls: [web-1.2.0.tgz]
  - name: web
    version: 1.10.0-rc.1
    urls: [web-1.10.0-rc.1.tgz]
  - name: web
    version: not-a-version
  - name: web
    version: 1.9.3
    urls: [web-1.9.3.tgz]
`)
	idx, err := repo.ParseIndex(data, "https://charts.example.com", func(w string) { fmt.Println("warning:", w) })
	if err != nil {
		panic(err)
	}
	for _, cv := range idx.Entries["web"] {
		fmt.Println(cv.Version)
	}
	// Output:
	// warning: skipping loading invalid entry for chart "web" "not-a-version" from https://charts.example.com: validation: chart.metadata.version "not-a-version" is invalid
	// 1.10.0-rc.1
	// 1.9.3
	// 1.2.0
}

// Get picks the newest version satisfying a constraint; without one, the
// newest stable version.
func ExampleIndexFile_Get() {
	idx, err := repo.ParseIndex([]byte(`apiVersion: v1
entries:
  web:
  - {name: web, version: 1.2.0, urls: [web-1.2.0.tgz]}
  - {name: web, version: 2.0.0-beta.1, urls: [web-2.0.0-beta.1.tgz]}
  - {name: web, version: 1.4.1, urls: [web-1.4.1.tgz]}
`), "example", nil)
	if err != nil {
		panic(err)
	}
	for _, constraint := range []string{"", "~1.2", ">=2.0.0-0", "1.2.0"} {
		cv, err := idx.Get("web", constraint)
		if err != nil {
			panic(err)
		}
		url, _ := repo.ChartURL("https://charts.example.com/stable", cv)
		fmt.Printf("%q: %s %s\n", constraint, cv.Version, url)
	}
	// Output:
	// "": 1.4.1 https://charts.example.com/stable/web-1.4.1.tgz
	// "~1.2": 1.2.0 https://charts.example.com/stable/web-1.2.0.tgz
	// ">=2.0.0-0": 2.0.0-beta.1 https://charts.example.com/stable/web-2.0.0-beta.1.tgz
	// "1.2.0": 1.2.0 https://charts.example.com/stable/web-1.2.0.tgz
}
