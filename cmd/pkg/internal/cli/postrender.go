package cli

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
)

// postRendererOptions holds --post-renderer and its arguments: an
// executable that reads the rendered manifests on standard input and
// writes the manifests to use on standard output, as in Helm. The path is
// resolved when the flag is parsed, so a missing executable is a flag
// error, as in Helm.
type postRendererOptions struct {
	path string // absolute path of the executable; "" for none
	args []string
}

// postRendererPath is the pflag.Value of --post-renderer.
type postRendererPath struct{ o *postRendererOptions }

func (p postRendererPath) String() string { return p.o.path }
func (p postRendererPath) Type() string   { return "postRendererString" }

// Set resolves the executable as Helm does: through $PATH for a bare name,
// else as a path, made absolute.
func (p postRendererPath) Set(val string) error {
	if val == "" {
		return nil
	}
	found, err := exec.LookPath(val)
	if err != nil {
		return fmt.Errorf("unable to find binary at %s: %w", val, err)
	}
	abs, err := filepath.Abs(found)
	if err != nil {
		return err
	}
	p.o.path = abs
	return nil
}

// postRendererArgs is the pflag.Value of --post-renderer-args.
type postRendererArgs struct{ o *postRendererOptions }

func (p postRendererArgs) String() string { return "[" + strings.Join(p.o.args, ",") + "]" }
func (p postRendererArgs) Type() string   { return "postRendererArgsSlice" }

// Set appends one argument; empty arguments are kept.
func (p postRendererArgs) Set(val string) error {
	p.o.args = append(p.o.args, val)
	return nil
}

func addPostRendererFlags(f *pflag.FlagSet, p *postRendererOptions) {
	f.Var(postRendererPath{p}, "post-renderer", "the path to an executable to be used for post rendering. If it exists in $PATH, the binary will be used, otherwise it will try to look for the executable at the given path")
	f.Var(postRendererArgs{p}, "post-renderer-args", "an argument to the post-renderer (can specify multiple)")
}

// run pipes manifests through the post-renderer and returns what it wrote
// on standard output, which may be empty.
func (p *postRendererOptions) run(ctx context.Context, manifests []byte) ([]byte, error) {
	cmd := exec.CommandContext(ctx, p.path, p.args...)
	cmd.Stdin = bytes.NewReader(manifests)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("error while running command %s. error output:\n%s: %w", p.path, stderr.String(), err)
	}
	return stdout.Bytes(), nil
}
