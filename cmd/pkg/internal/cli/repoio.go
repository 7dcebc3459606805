package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gosuri/uitable"
	"github.com/spf13/pflag"
	"sigs.k8s.io/yaml"

	"pkg.dev/pkg/repo"
)

// defaultRepoTimeout is Helm's --timeout for index downloads.
const defaultRepoTimeout = 120 * time.Second

// newFetcher builds the HTTP access to chart repositories: one client
// per command, with Helm's proxy handling (HTTP(S)_PROXY, NO_PROXY),
// compression left to the caller as Helm does, and the given timeout.
//
// Downloads over a few hundred KB draw a progress bar on standard error
// when it is a terminal.
func newFetcher(env Env, timeout time.Duration) *repo.Fetcher {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DisableCompression = true
	return &repo.Fetcher{
		Client:    &http.Client{Transport: tr, Timeout: timeout},
		UserAgent: "pkg/" + version,
		Progress:  terminalProgress(env),
		Schemes:   pluginSchemes(env),
	}
}

// repoPaths are the repositories file and cache directory in effect for
// a command, from the global flags (which default to Helm's locations and
// $HELM_REPOSITORY_CONFIG / $HELM_REPOSITORY_CACHE).
type repoPaths struct {
	config string
	cache  repo.Cache
}

func (g *globalOptions) repoPaths() repoPaths {
	return repoPaths{config: g.repositoryConfig, cache: repo.Cache{Dir: g.repositoryCache}}
}

// outputFormat is the value of -o/--output: table, json or yaml.
type outputFormat string

const (
	outputTable outputFormat = "table"
	outputJSON  outputFormat = "json"
	outputYAML  outputFormat = "yaml"
)

func (o *outputFormat) String() string { return string(*o) }
func (o *outputFormat) Type() string   { return "format" }
func (o *outputFormat) Set(s string) error {
	switch outputFormat(s) {
	case outputTable, outputJSON, outputYAML:
		*o = outputFormat(s)
		return nil
	}
	return fmt.Errorf("invalid format type")
}

// addOutputFlag registers -o/--output with Helm's wording.
func addOutputFlag(f *pflag.FlagSet, o *outputFormat) {
	*o = outputTable
	f.VarP(o, "output", "o", "prints the output in the specified format. Allowed values: table, json, yaml")
}

// writeStructured prints v as Helm's -o json (one line) or -o yaml.
func writeStructured(w io.Writer, format outputFormat, v any) error {
	switch format {
	case outputJSON:
		if err := json.NewEncoder(w).Encode(v); err != nil {
			return fmt.Errorf("unable to write JSON output: %w", err)
		}
		return nil
	case outputYAML:
		b, err := yaml.Marshal(v)
		if err != nil {
			return fmt.Errorf("unable to write YAML output: %w", err)
		}
		_, err = w.Write(b)
		return err
	}
	return fmt.Errorf("invalid format type")
}

// writeTable prints rows as Helm's tables do (gosuri/uitable, cells
// padded and separated by tabs), with maxWidth bounding a column when not
// zero.
func writeTable(w io.Writer, maxWidth uint, rows [][]any) error {
	t := uitable.New()
	if maxWidth > 0 {
		t.MaxColWidth = maxWidth
	}
	for _, r := range rows {
		t.AddRow(r...)
	}
	_, err := w.Write(append(t.Bytes(), '\n'))
	if err != nil {
		return fmt.Errorf("unable to write table output: %w", err)
	}
	return nil
}

// readPassword reads a password from in: all of it, without a final line
// ending, as `--password-stdin` does in Helm.
func readPassword(in io.Reader) (string, error) {
	if in == nil {
		return "", fmt.Errorf("no standard input to read the password from")
	}
	b, err := io.ReadAll(in)
	if err != nil {
		return "", fmt.Errorf("reading the password from standard input: %w", err)
	}
	return strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r"), nil
}
