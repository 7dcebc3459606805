package lint_test

import (
	"context"
	"fmt"

	"pkg.dev/pkg/lint"
)

func ExamplePath() {
	res, err := lint.Path(context.Background(), "testdata/no-templates", lint.Options{Namespace: "default"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range res.Messages {
		fmt.Println(m.Error())
	}
	fmt.Println("failed:", len(res.Failures(false)) > 0)
	// Output:
	// [INFO] values.yaml: file does not exist
	// failed: false
}
