// Command gen regenerates the generated test charts under testdata/charts:
// the large benchmark chart (bigchart) and the .tgz subchart archives of
// tgz-deps. Its output is deterministic: running it twice writes the same
// bytes, so the results are committed and `git diff` after a run shows only
// intended changes.
//
// Run it from the module root:
//
//	go run ./testdata/gen
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	root := flag.String("root", "testdata", "the testdata directory to write into")
	flag.Parse()
	if err := run(*root); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(root string) error {
	charts := filepath.Join(root, "charts")
	if err := writeBigChart(filepath.Join(charts, "bigchart")); err != nil {
		return fmt.Errorf("writing bigchart: %w", err)
	}
	if err := writeArchives(root); err != nil {
		return fmt.Errorf("writing archives: %w", err)
	}
	return nil
}
