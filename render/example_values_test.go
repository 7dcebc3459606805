package render_test

import (
	"fmt"

	"pkg.dev/pkg/chart"
	"pkg.dev/pkg/render"
)

func ExampleParseSet() {
	vals := map[string]any{}
	if err := render.ParseSet(`image.tag=1.2,replicas=3,debug=true,hosts={a.example,b.example},note=a\,b`, vals); err != nil {
		fmt.Println(err)
		return
	}
	out, _ := render.Values(vals).YAML()
	fmt.Print(out)
	// Output:
	// debug: true
	// hosts:
	// - a.example
	// - b.example
	// image:
	//   tag: "1.2"
	// note: a,b
	// replicas: 3
}

func ExampleValueOptions_Merge() {
	files := map[string]string{
		"base.yaml": "replicas: 1\nimage: {repo: nginx, tag: '1.0'}\n",
		"prod.yaml": "replicas: 3\n",
	}
	opts := render.ValueOptions{
		ValueFiles: []string{"base.yaml", "prod.yaml"},
		Values:     []string{"image.tag=1.1"},
	}
	vals, err := opts.Merge(func(name string) ([]byte, error) {
		if s, ok := files[name]; ok {
			return []byte(s), nil
		}
		return nil, fmt.Errorf("open %s: no such file", name)
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, _ := render.Values(vals).YAML()
	fmt.Print(out)
	// Output:
	// image:
	//   repo: nginx
	//   tag: "1.1"
	// replicas: 3
}

func ExampleCoalesceValues() {
	sub := &chart.Chart{
		Metadata: &chart.Metadata{Name: "db"},
		Values:   map[string]any{"port": 5432, "user": "app"},
	}
	root := &chart.Chart{
		Metadata: &chart.Metadata{Name: "web"},
		Values: map[string]any{
			"replicas": 1,
			"global":   map[string]any{"env": "dev"},
			"db":       map[string]any{"user": "web"},
		},
	}
	root.AddDependency(sub)
	user := map[string]any{"replicas": 2, "global": map[string]any{"env": "prod"}, "db": map[string]any{"port": nil}}
	vals, err := render.CoalesceValues(root, user)
	if err != nil {
		fmt.Println(err)
		return
	}
	out, _ := vals.YAML()
	fmt.Print(out)
	// Output:
	// db:
	//   global:
	//     env: prod
	//   user: web
	// global:
	//   env: prod
	// replicas: 2
}
