package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"pkg.dev/pkg/orchestrator/image"
)

// imageOptions are the flags shared by the image commands.
type imageOptions struct {
	dataDir string
}

func (o *imageOptions) store() (*image.Store, error) {
	return image.Open(filepath.Join(o.dataDir, "images"))
}

func newImageCmd(env Env) *cobra.Command {
	o := &imageOptions{}
	cmd := &cobra.Command{
		Use:   "image",
		Short: "manage the images of the bundled cluster's nodes",
		Long: `Manage the OCI images the bundled cluster's nodes run containers from.

Images live in the images/ directory of the cluster's data directory, shared
by all its nodes. "pkg image load" puts an image there without a registry,
as "kind load image-archive" does.`,
	}
	cmd.PersistentFlags().StringVar(&o.dataDir, "data-dir", clusterDataDir(env), "directory of the cluster whose images to manage")
	cmd.AddCommand(
		newImageLoadCmd(env, o),
		newImageListCmd(env, o),
		newImageRemoveCmd(env, o),
		newImagePullCmd(env, o),
	)
	return cmd
}

func newImageLoadCmd(env Env, o *imageOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "load FILE.tar...",
		Short: "load images from docker-save or OCI layout archives",
		Long: `Load images from archives written by "docker save", "podman save" or as OCI
image layout tarballs (named by their io.containerd.image.name or
org.opencontainers.image.ref.name annotation). Gzipped archives are accepted.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError(cmd, "requires at least 1 argument")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := o.store()
			if err != nil {
				return err
			}
			for _, file := range args {
				imgs, err := s.Load(cmd.Context(), file, nil)
				if err != nil {
					return err
				}
				for _, img := range imgs {
					for _, t := range img.RepoTags {
						fmt.Fprintf(env.Streams.Out, "Loaded image: %s\n", t)
					}
				}
			}
			return nil
		},
	}
}

// imageList is the -o json/yaml form of `pkg image ls`.
type imageList struct {
	Images []image.Image `json:"images"`
}

func newImageListCmd(env Env, o *imageOptions) *cobra.Command {
	var output outputFormat
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "list the images in the store",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := o.store()
			if err != nil {
				return err
			}
			imgs, err := s.List(cmd.Context())
			if err != nil {
				return err
			}
			if output != outputTable {
				if imgs == nil {
					imgs = []image.Image{}
				}
				return writeStructured(env.Streams.Out, output, imageList{Images: imgs})
			}
			return writeImageTable(env.Streams.Out, imgs)
		},
	}
	addOutputFlag(cmd.Flags(), &output)
	return cmd
}

// writeImageTable prints images as `crictl images` does: a row per tag
// (or one <none> row for an untagged image), IDs cut to 13 characters and
// sizes in decimal units.
func writeImageTable(w io.Writer, imgs []image.Image) error {
	tw := tabwriter.NewWriter(w, 20, 1, 3, ' ', 0)
	fmt.Fprintln(tw, "IMAGE\tTAG\tIMAGE ID\tSIZE")
	for _, img := range imgs {
		id := strings.TrimPrefix(img.ID, "sha256:")
		if len(id) > 13 {
			id = id[:13]
		}
		size := decimalSize(img.Size)
		if len(img.RepoTags) == 0 {
			repo := "<none>"
			if len(img.RepoDigests) > 0 {
				repo, _, _ = strings.Cut(img.RepoDigests[0], "@")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", repo, "<none>", id, size)
			continue
		}
		for _, t := range img.RepoTags {
			i := strings.LastIndex(t, ":")
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t[:i], t[i+1:], id, size)
		}
	}
	return tw.Flush()
}

// decimalSize writes a size with three significant digits in decimal
// units, as crictl and Docker do ("5.6MB", "740kB").
func decimalSize(n int64) string {
	units := []string{"B", "kB", "MB", "GB", "TB", "PB"}
	f := float64(n)
	i := 0
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	return fmt.Sprintf("%.3g%s", f, units[i])
}

func newImageRemoveCmd(env Env, o *imageOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "rm REF...",
		Aliases: []string{"rmi", "remove"},
		Short:   "remove images from the store",
		Long: `Remove image references: repo:tag removes that tag (and the image with its
last tag), repo@digest or an image ID removes the image. Blobs and unpacked
layers no image uses any more are deleted.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError(cmd, "requires at least 1 argument")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := o.store()
			if err != nil {
				return err
			}
			for _, ref := range args {
				removed, err := s.Remove(cmd.Context(), ref)
				if err != nil {
					return err
				}
				for _, r := range removed {
					fmt.Fprintf(env.Streams.Out, "Deleted: %s\n", r)
				}
			}
			return nil
		},
	}
}

func newImagePullCmd(env Env, o *imageOptions) *cobra.Command {
	var (
		secrets      []string
		dockerConfig string
		platform     string
		insecure     []string
	)
	cmd := &cobra.Command{
		Use:   "pull REF",
		Short: "pull an image from a registry into the store",
		Long: `Pull an image from an OCI registry into the store. Registries on loopback
may be plain HTTP. Credentials come from the Docker config (the file
--docker-config names, else $DOCKER_CONFIG/config.json, else
~/.docker/config.json) and from --pull-secret files, which hold what a
Kubernetes imagePullSecret's .dockerconfigjson holds.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError(cmd, "requires exactly 1 argument")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := o.store()
			if err != nil {
				return err
			}
			var chain []image.Keychain
			for _, f := range secrets {
				b, err := os.ReadFile(f)
				if err != nil {
					return fmt.Errorf("reading pull secret: %w", err)
				}
				k, err := image.ParseDockerConfig(b)
				if err != nil {
					return fmt.Errorf("pull secret %s: %w", f, err)
				}
				chain = append(chain, k)
			}
			if dockerConfig == "" {
				dockerConfig = defaultDockerConfig(env)
			}
			k, err := image.LoadDockerConfig(dockerConfig)
			if err != nil {
				return err
			}
			chain = append(chain, k)
			opts := image.PullOptions{Keychain: image.NewKeychain(chain...), InsecureRegistries: insecure}
			if platform != "" {
				p, err := parsePlatform(platform)
				if err != nil {
					return usageError(cmd, "%v", err)
				}
				opts.Platform = &p
			}
			bar := newImagePullProgress(env)
			if bar != nil {
				opts.Progress = bar.report
			}
			img, err := s.Pull(cmd.Context(), args[0], opts)
			if bar != nil {
				bar.finish()
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Streams.Out, "Image is up to date for %s\n", img.ID)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringArrayVar(&secrets, "pull-secret", nil, "file holding a .dockerconfigjson with registry credentials (repeatable)")
	fs.StringVar(&dockerConfig, "docker-config", "", "Docker config.json with registry credentials")
	fs.StringVar(&platform, "platform", "linux/amd64", "platform to pull from a multi-platform image")
	fs.StringArrayVar(&insecure, "insecure-registry", nil, "registry host[:port] to reach over plain HTTP (loopback registries always may be)")
	return cmd
}

func defaultDockerConfig(env Env) string {
	if d := env.getenv("DOCKER_CONFIG"); d != "" {
		return filepath.Join(d, "config.json")
	}
	return filepath.Join(env.getenv("HOME"), ".docker", "config.json")
}
