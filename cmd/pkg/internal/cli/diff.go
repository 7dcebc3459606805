package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/mattn/go-isatty"
	"github.com/pmezard/go-difflib/difflib"
	"github.com/spf13/cobra"

	"pkg.dev/pkg/release"
	"pkg.dev/pkg/render"
)

const diffLong = `
Show what an upgrade or a rollback would change, resource by resource, as a
unified diff of the manifests (coloured on a terminal), without changing
anything: what users install the helm-diff plugin for.

  pkg diff upgrade NAME CHART [flags]    the upgrade pkg upgrade would make
  pkg diff rollback NAME [REVISION]      the rollback pkg rollback would make

The exit status is 0 whether or not there are differences; with
--detailed-exitcode it is 2 when there are.
`

// diffOptions are the flags every diff shares.
type diffOptions struct {
	noColor  bool
	context  int
	detailed bool
}

func (d *diffOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&d.noColor, "no-color", false, "do not colour the diff (the default when the output is not a terminal)")
	cmd.Flags().IntVarP(&d.context, "context", "C", 3, "lines of context around each change")
	cmd.Flags().BoolVar(&d.detailed, "detailed-exitcode", false, "exit with status 2 when there are differences")
}

func (d *diffOptions) colour(env Env) bool {
	if d.noColor || env.getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := env.Streams.Out.(*os.File)
	return ok && isatty.IsTerminal(f.Fd())
}

// finish turns "there were differences" into exit status 2 when asked.
func (d *diffOptions) finish(changed bool) error {
	if changed && d.detailed {
		return &exitError{code: 2, err: fmt.Errorf("differences found")}
	}
	return nil
}

func newDiffCmd(env Env, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "diff",
		Short: "show what an upgrade or rollback would change",
		Long:  diffLong,
		Args:  noArgs,
	}
	cmd.AddCommand(newDiffUpgradeCmd(env, g), newDiffRollbackCmd(env, g))
	return cmd
}

func newDiffUpgradeCmd(env Env, g *globalOptions) *cobra.Command {
	a := &applyFlags{}
	d := &diffOptions{}
	var values valuesModeFlags
	cmd := &cobra.Command{
		Use:   "upgrade [RELEASE] [CHART]",
		Short: "show what an upgrade would change",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ch, vals, err := a.loadChart(cmd.Context(), env, g, args[1])
			if err != nil {
				return err
			}
			re, conn, err := g.releaseEnv(cmd.Context(), env, false)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			old := ""
			oldLabel := "(none)"
			if last, err := re.Storage.Last(ctx, args[0]); err == nil {
				cur := last
				if dep, err := re.Storage.Deployed(ctx, args[0]); err == nil {
					cur = dep
				}
				old, oldLabel = cur.Manifest, "revision "+strconv.Itoa(cur.Version)
			}
			ao := a.applyOptions(release.DryRunServer)
			o := release.UpgradeOptions{
				ApplyOptions: ao, Name: args[0], Namespace: conn.namespace, Values: values.mode(),
				TakeOwnership: a.takeOwnership, RenderOptions: a.renderOptions(),
				Install: &release.InstallOptions{SkipCRDs: a.skipCRDs, TakeOwnership: a.takeOwnership},
			}
			up, err := re.Upgrade(ctx, ch, vals, o)
			if err != nil {
				return err
			}
			changed, err := writeManifestDiff(env.Streams.Out, old, up.Manifest, oldLabel, "upgrade", d.context, d.colour(env))
			if err != nil {
				return err
			}
			return d.finish(changed)
		},
	}
	a.addFlags(cmd.Flags(), env, "upgrade")
	values.addFlags(cmd.Flags())
	d.addFlags(cmd)
	return cmd
}

func newDiffRollbackCmd(env Env, g *globalOptions) *cobra.Command {
	d := &diffOptions{}
	cmd := &cobra.Command{
		Use:   "rollback <RELEASE> [REVISION]",
		Short: "show what a rollback would change",
		Args:  minimumArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			re, _, err := g.releaseEnv(cmd.Context(), env, false)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			last, err := re.Storage.Last(ctx, args[0])
			if err != nil {
				return err
			}
			rev := last.Version - 1
			if len(args) > 1 {
				if rev, err = strconv.Atoi(args[1]); err != nil {
					return fmt.Errorf("could not convert revision to a number: %v", err)
				}
				if rev == 0 {
					rev = last.Version - 1
				}
			}
			target, err := re.Storage.Get(ctx, args[0], rev)
			if err != nil {
				return fmt.Errorf("release has no %d version: %w", rev, err)
			}
			changed, err := writeManifestDiff(env.Streams.Out, last.Manifest, target.Manifest,
				"revision "+strconv.Itoa(last.Version), "revision "+strconv.Itoa(rev), d.context, d.colour(env))
			if err != nil {
				return err
			}
			return d.finish(changed)
		},
	}
	d.addFlags(cmd)
	return cmd
}

// historyDiff prints the differences between two revisions.
func historyDiff(ctx context.Context, env Env, re *release.Env, name string, revs []int) error {
	if len(revs) != 2 {
		return fmt.Errorf("--diff takes two revisions (--diff A,B), got %d", len(revs))
	}
	get := func(v int) (*release.Release, error) {
		r, err := re.Storage.Get(ctx, name, v)
		if errors.Is(err, release.ErrNotFound) {
			return nil, fmt.Errorf("release %q has no revision %d: \"pkg history %s\" lists the revisions kept (--history-max prunes the oldest)", name, v, name)
		}
		return r, err
	}
	a, err := get(revs[0])
	if err != nil {
		return err
	}
	b, err := get(revs[1])
	if err != nil {
		return err
	}
	d := diffOptions{context: 3}
	_, err = writeManifestDiff(env.Streams.Out, a.Manifest, b.Manifest,
		"revision "+strconv.Itoa(revs[0]), "revision "+strconv.Itoa(revs[1]), d.context, d.colour(env))
	return err
}

// manifestDocs indexes a release manifest's documents by
// "namespace/Kind/name" (namespace may be empty).
func manifestDocs(manifest string) (map[string]string, error) {
	docs := map[string]string{}
	if strings.TrimSpace(manifest) == "" {
		return docs, nil
	}
	_, ms, err := render.SortManifests(render.SplitManifests(manifest), render.InstallOrder())
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		name, ns := "", ""
		if m.Head.Metadata != nil {
			name = m.Head.Metadata.Name
		}
		ns = docNamespace(m.Content)
		key := ns + "/" + m.Head.Kind + "/" + name
		docs[key] = m.Content + "\n"
	}
	return docs, nil
}

// docNamespace finds metadata.namespace in a document without decoding
// all of it.
func docNamespace(doc string) string {
	inMeta := false
	for _, line := range strings.Split(doc, "\n") {
		switch {
		case strings.HasPrefix(line, "metadata:"):
			inMeta = true
		case inMeta && strings.HasPrefix(line, "  namespace:"):
			return strings.Trim(strings.TrimSpace(strings.TrimPrefix(line, "  namespace:")), `"'`)
		case inMeta && line != "" && line[0] != ' ' && line[0] != '#':
			inMeta = false
		}
	}
	return ""
}

// writeManifestDiff prints one unified diff per resource that differs
// between two manifests, in a stable order, and says whether any did.
func writeManifestDiff(out io.Writer, oldManifest, newManifest, oldLabel, newLabel string, context int, colour bool) (bool, error) {
	oldDocs, err := manifestDocs(oldManifest)
	if err != nil {
		return false, fmt.Errorf("reading the %s manifest: %w", oldLabel, err)
	}
	newDocs, err := manifestDocs(newManifest)
	if err != nil {
		return false, fmt.Errorf("reading the %s manifest: %w", newLabel, err)
	}
	keys := map[string]bool{}
	for k := range oldDocs {
		keys[k] = true
	}
	for k := range newDocs {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	changed := false
	for _, k := range sorted {
		a, b := oldDocs[k], newDocs[k]
		if a == b {
			continue
		}
		changed = true
		what := "changed"
		switch {
		case a == "":
			what = "added"
		case b == "":
			what = "removed"
		}
		title := strings.TrimPrefix(k, "/")
		header := fmt.Sprintf("%s %s:", title, what)
		if colour {
			header = "\x1b[1;33m" + header + "\x1b[0m"
		}
		fmt.Fprintln(out, header)
		text, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
			A: difflib.SplitLines(a), B: difflib.SplitLines(b),
			FromFile: title + " (" + oldLabel + ")", ToFile: title + " (" + newLabel + ")",
			Context: context,
		})
		if err != nil {
			return changed, err
		}
		for _, line := range strings.SplitAfter(text, "\n") {
			if line == "" {
				continue
			}
			if colour {
				switch {
				case strings.HasPrefix(line, "+++") || strings.HasPrefix(line, "---"):
					line = "\x1b[1m" + strings.TrimSuffix(line, "\n") + "\x1b[0m\n"
				case strings.HasPrefix(line, "+"):
					line = "\x1b[32m" + strings.TrimSuffix(line, "\n") + "\x1b[0m\n"
				case strings.HasPrefix(line, "-"):
					line = "\x1b[31m" + strings.TrimSuffix(line, "\n") + "\x1b[0m\n"
				case strings.HasPrefix(line, "@@"):
					line = "\x1b[36m" + strings.TrimSuffix(line, "\n") + "\x1b[0m\n"
				}
			}
			fmt.Fprint(out, line)
		}
		fmt.Fprintln(out)
	}
	if !changed {
		fmt.Fprintln(out, "No changes.")
	}
	return changed, nil
}

// resourceSummary lists a revision's resources with their readiness, for
// `status --show-resources`.
func resourceSummary(ctx context.Context, re *release.Env, rel *release.Release) (string, error) {
	var list release.ResourceList
	var unserved []release.Unserved
	var err error
	if sb, ok := re.Target.(release.ServedBuilder); ok {
		list, unserved, err = sb.BuildServed(ctx, rel.Manifest, rel.Namespace)
	} else {
		list, err = re.Target.Build(ctx, rel.Manifest, rel.Namespace)
	}
	if err != nil {
		return "", fmt.Errorf("reading the resources of %q: %w", rel.Name, err)
	}
	rr, ok := re.Target.(release.ReadinessReporter)
	if !ok {
		return "", fmt.Errorf("this cluster client cannot report readiness")
	}
	states, err := rr.Ready(ctx, list)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	rows := [][]any{{"KIND", "NAME", "NAMESPACE", "READY", "STATUS"}}
	for i, r := range list {
		ready, reason := "yes", states[i].Reason
		if !states[i].Exists {
			ready, reason = "missing", "not found in the cluster"
		} else if !states[i].Ready {
			ready = "no"
		}
		kind := r.GVK.Kind
		if r.GVK.Group != "" {
			kind += "." + r.GVK.Group
		}
		rows = append(rows, []any{kind, r.Name, r.Namespace, ready, reason})
	}
	// Objects of kinds the cluster does not serve (any more) cannot be
	// there: listed as such rather than failing the whole status.
	for _, u := range unserved {
		if u.ServedAs == "" {
			rows = append(rows, []any{u.Kind + " (" + u.APIVersion + ")", u.Name, u.Namespace, "missing", "kind not served by the cluster"})
		}
	}
	if err := writeTable(&b, 0, rows); err != nil {
		return "", err
	}
	return b.String(), nil
}
