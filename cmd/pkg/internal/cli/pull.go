package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"pkg.dev/pkg/chart"
)

type pullOptions struct {
	chartPath chartPathOptions
	devel     bool
	untar     bool
	untarDir  string
	destDir   string
	prov      bool
}

func newPullCmd(env Env, _ *globalOptions) *cobra.Command {
	o := &pullOptions{}
	cmd := &cobra.Command{
		Use:     "pull [chart URL | repo/chartname] [...]",
		Short:   "download a chart from a repository and (optionally) unpack it in local directory",
		Aliases: []string{"fetch"},
		Long: `
Retrieve a package from a package repository, and download it locally.

This is useful for fetching packages to inspect, modify, or repackage.

There are options for unpacking the chart after download. This will create a
directory for the chart and uncompress into that directory.

The archive is checked against the digest the repository's index records
for it, and must load as a chart, before anything is written. With --verify
its provenance file (beside it in a repository, a layer of its manifest in a
registry) is checked too, and nothing is written when it does not verify.
`,
		Args: minimumArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, ref := range args {
				if err := o.run(cmd, env, ref); err != nil {
					return err
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.devel, "devel", false, "use development versions, too. Equivalent to version '>0.0.0-0'. If --version is set, this is ignored.")
	f.BoolVar(&o.untar, "untar", false, "if set to true, will untar the chart after downloading it")
	f.BoolVar(&o.prov, "prov", false, "fetch the provenance file, but don't perform verification")
	f.StringVar(&o.untarDir, "untardir", ".", "if untar is specified, this flag specifies the name of the directory into which the chart is expanded")
	f.StringVarP(&o.destDir, "destination", "d", ".", "location to write the chart. If this and untardir are specified, untardir is appended to this")
	o.chartPath.addFlags(f, env)
	return cmd
}

func (o *pullOptions) run(cmd *cobra.Command, env Env, ref string) error {
	mode := provNever
	switch {
	case o.chartPath.verify:
		mode = provAlways
	case o.prov:
		mode = provLater
	}
	f, err := o.chartPath.fetch(cmd.Context(), ref, mode, func(s string) { fmt.Fprintln(env.Streams.Out, s) })
	if err != nil {
		return err
	}
	if f.oci != nil {
		// Helm's registry client prints this on standard error.
		fmt.Fprintf(env.Streams.Err, "Pulled: %s\nDigest: %s\n", f.oci.Ref, f.oci.ManifestDigest)
	}
	if o.chartPath.verify {
		// Verified before anything is written: a chart that fails leaves
		// nothing in the destination.
		v, err := f.verify(o.chartPath.keyring)
		if err != nil {
			return err
		}
		if err := printVerification(env.Streams.Out, v); err != nil {
			return err
		}
	}
	if !o.untar {
		_, err := f.store(o.destDir)
		return err
	}
	return untarChart(f.data, o.destDir, o.untarDir, ref)
}

// untarChart expands the archive into DEST/UNTARDIR as Helm's pull does:
// the chart's own top-level directory is created there, and pulling
// refuses to overwrite an existing one. The archive is unpacked into a
// temporary directory first, so nothing partial is left on error.
func untarChart(data []byte, destDir, untarDir, ref string) error {
	ud := untarDir
	if !filepath.IsAbs(ud) {
		ud = filepath.Join(destDir, ud)
	}
	check := ud
	_, chartName := filepath.Split(ref)
	if untarDir == "." {
		check = chartName
	} else {
		check = filepath.Join(check, chartName)
	}
	if _, err := os.Stat(check); err == nil {
		return fmt.Errorf("failed to untar: a file or directory with the name %s already exists", check)
	}
	c, err := chart.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("failed to untar: %w", err)
	}
	files, err := chart.LoadArchiveFiles(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("failed to untar: %w", err)
	}
	if err := os.MkdirAll(ud, 0o755); err != nil {
		return fmt.Errorf("failed to untar (mkdir): %w", err)
	}
	tmp, err := os.MkdirTemp(ud, ".pkg-untar-*")
	if err != nil {
		return fmt.Errorf("failed to untar: %w", err)
	}
	defer os.RemoveAll(tmp)
	top := c.Name()
	for _, f := range files {
		dest := filepath.Join(tmp, top, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
			return fmt.Errorf("failed to untar: %w", err)
		}
		if err := os.WriteFile(dest, f.Data, 0o644); err != nil {
			return fmt.Errorf("failed to untar: %w", err)
		}
	}
	if err := os.Rename(filepath.Join(tmp, top), filepath.Join(ud, top)); err != nil {
		return fmt.Errorf("failed to untar: %w", err)
	}
	return nil
}
