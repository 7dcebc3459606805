package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// newDocsCmd generates the Markdown CLI reference in docs/cli from the
// command tree itself, so the reference cannot drift from the code.
func newDocsCmd(env Env) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:    "docs",
		Short:  "generate the Markdown CLI reference",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			// Document a tree built without the caller's environment, so
			// that defaults read "~/.config/helm/..." rather than this
			// machine's paths.
			neutral := Env{Streams: env.Streams, Getenv: func(k string) string {
				if k == "HOME" {
					return "~"
				}
				return ""
			}}
			root := newRoot(neutral)
			n, err := writeCommandDocs(root, dir)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Streams.Out, "wrote %d pages to %s\n", n, dir)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "docs/cli", "directory to write the pages to")
	return cmd
}

func docFileName(c *cobra.Command) string {
	return strings.ReplaceAll(c.CommandPath(), " ", "_") + ".md"
}

func writeCommandDocs(c *cobra.Command, dir string) (int, error) {
	n := 0
	for _, sub := range c.Commands() {
		if !sub.IsAvailableCommand() || sub.IsAdditionalHelpTopicCommand() {
			continue
		}
		k, err := writeCommandDocs(sub, dir)
		if err != nil {
			return n, err
		}
		n += k
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s\n\n%s\n\n", c.CommandPath(), c.Short)
	if long := strings.TrimSpace(c.Long); long != "" {
		fmt.Fprintf(&b, "%s\n\n", long)
	}
	if c.Runnable() {
		fmt.Fprintf(&b, "```\n%s\n```\n\n", c.UseLine())
	}
	if len(c.Aliases) > 0 {
		fmt.Fprintf(&b, "Aliases: %s\n\n", strings.Join(c.Aliases, ", "))
	}
	writeFlags := func(title string, fs *pflag.FlagSet) {
		if !fs.HasAvailableFlags() {
			return
		}
		fmt.Fprintf(&b, "## %s\n\n```\n%s```\n\n", title, fs.FlagUsages())
	}
	writeFlags("Options", c.NonInheritedFlags())
	writeFlags("Options inherited from parent commands", c.InheritedFlags())
	var subs []string
	for _, s := range c.Commands() {
		if s.IsAvailableCommand() && !s.IsAdditionalHelpTopicCommand() {
			subs = append(subs, fmt.Sprintf("* [%s](%s)\t - %s", s.CommandPath(), docFileName(s), s.Short))
		}
	}
	sort.Strings(subs)
	if c.HasParent() || len(subs) > 0 {
		b.WriteString("## See also\n\n")
		if c.HasParent() {
			p := c.Parent()
			fmt.Fprintf(&b, "* [%s](%s)\t - %s\n", p.CommandPath(), docFileName(p), p.Short)
		}
		for _, s := range subs {
			b.WriteString(s + "\n")
		}
	}
	if err := os.WriteFile(filepath.Join(dir, docFileName(c)), b.Bytes(), 0o644); err != nil {
		return n, err
	}
	return n + 1, nil
}
