package render_test

import (
	"fmt"

	"pkg.dev/pkg/chart"
	"pkg.dev/pkg/render"
)

// Prepare parses a chart once; each Render then only executes it.
func ExampleEngine_Prepare() {
	c := &chart.Chart{
		Metadata: &chart.Metadata{Name: "web", Version: "1.0.0", AppVersion: "2.1"},
		Templates: []*chart.File{
			{Name: "templates/_names.tpl", Data: []byte(`{{ define "web.name" }}{{ .Release.Name }}-{{ .Chart.Name }}{{ end }}`)},
			{Name: "templates/cm.yaml", Data: []byte("name: {{ include \"web.name\" . }}\nimage: {{ tpl .Values.image . }}\nkube: {{ .Capabilities.KubeVersion }}\n")},
		},
	}
	prepared, err := render.Engine{}.Prepare(c)
	if err != nil {
		panic(err)
	}
	for _, rel := range []string{"blue", "green"} {
		top, err := render.RenderValues(c, map[string]any{"image": "nginx:{{ .Chart.AppVersion }}"}, render.ReleaseOptions{Name: rel, Namespace: "default", Revision: 1, IsInstall: true}, nil)
		if err != nil {
			panic(err)
		}
		out, err := prepared.Render(top)
		if err != nil {
			panic(err)
		}
		fmt.Print(out["web/templates/cm.yaml"])
	}
	// Output:
	// name: blue-web
	// image: nginx:2.1
	// kube: v1.37.0
	// name: green-web
	// image: nginx:2.1
	// kube: v1.37.0
}

// A failing template reports Helm's message, with its location as data.
func ExampleTemplateError() {
	c := &chart.Chart{
		Metadata:  &chart.Metadata{Name: "web"},
		Templates: []*chart.File{{Name: "templates/cm.yaml", Data: []byte("a: 1\nb: {{ required \"b is required\" .Values.b }}\n")}},
	}
	top, _ := render.RenderValues(c, nil, render.ReleaseOptions{Name: "r"}, nil)
	_, err := render.Engine{}.Render(c, top)
	fmt.Println(err)
	if te, ok := err.(*render.TemplateError); ok {
		fmt.Println(te.Source, te.Line, te.Col, te.Message)
	}
	// Output:
	// execution error at (web/templates/cm.yaml:2:6): b is required
	// web/templates/cm.yaml 2 6 b is required
}
