package cli

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	"pkg.dev/pkg/repo"
)

func newSearchHubCmd(env Env) *cobra.Command {
	var endpoint string
	var maxColWidth uint
	var listRepoURL, failOnNoResult bool
	var format outputFormat
	cmd := &cobra.Command{
		Use:   "hub [KEYWORD]",
		Short: "search for charts in the Artifact Hub or your own hub instance",
		Long: `
Search for Helm charts in the Artifact Hub (https://artifacthub.io/), or in
another hub given by --endpoint that serves the Monocular-compatible search
API (` + repo.HubSearchPath + `).

The keywords are joined into one query; Artifact Hub also takes its rich
query syntax there. Each chart is listed with its page's URL and its latest
version.
`,
		RunE: func(cmd *cobra.Command, args []string) error {
			client := &http.Client{Transport: http.DefaultTransport, Timeout: defaultRepoTimeout}
			charts, err := repo.SearchHub(cmd.Context(), client, "pkg/"+version, endpoint, strings.Join(args, " "))
			if err != nil {
				return fmt.Errorf("unable to perform search against %q: %w", endpoint, err)
			}
			if len(charts) == 0 && failOnNoResult {
				return errors.New("no results found")
			}
			if format != outputTable {
				type repoElement struct {
					URL  string `json:"url"`
					Name string `json:"name"`
				}
				type element struct {
					URL         string      `json:"url"`
					Version     string      `json:"version"`
					AppVersion  string      `json:"app_version"`
					Description string      `json:"description"`
					Repository  repoElement `json:"repository"`
				}
				list := make([]element, 0, len(charts))
				for _, c := range charts {
					list = append(list, element{c.URL, c.Version, c.AppVersion, c.Description, repoElement{c.RepoURL, c.RepoName}})
				}
				return writeStructured(env.Streams.Out, format, list)
			}
			if len(charts) == 0 {
				fmt.Fprintln(env.Streams.Out, "No results found")
				return nil
			}
			head := []any{"URL", "CHART VERSION", "APP VERSION", "DESCRIPTION"}
			if listRepoURL {
				head = append(head, "REPO URL")
			}
			rows := [][]any{head}
			for _, c := range charts {
				row := []any{c.URL, c.Version, c.AppVersion, c.Description}
				if listRepoURL {
					row = append(row, c.RepoURL)
				}
				rows = append(rows, row)
			}
			return writeTable(env.Streams.Out, maxColWidth, rows)
		},
	}
	f := cmd.Flags()
	f.StringVar(&endpoint, "endpoint", repo.DefaultHub, "Hub instance to query for charts")
	f.UintVar(&maxColWidth, "max-col-width", 50, "maximum column width for output table")
	f.BoolVar(&listRepoURL, "list-repo-url", false, "print charts repository URL")
	f.BoolVar(&failOnNoResult, "fail-on-no-result", false, "search fails if no results are found")
	addOutputFlag(f, &format)
	return cmd
}
