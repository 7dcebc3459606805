// Command pkg is a Helm-compatible package manager and templating engine.
//
// main only wires the process to the CLI: the signal-aware context, the
// standard streams and the environment, and sets the collector's pace for
// a short-lived process (gc.go). Everything else is in
// pkg.dev/pkg/cmd/pkg/internal/cli.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"pkg.dev/pkg/cmd/pkg/internal/cli"
)

func main() {
	shortLivedGC(os.Args[1:])
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first SIGINT or SIGTERM ends ctx: a release operation then
	// records its failure (and rolls back with --atomic) before exiting.
	// A second one kills the process at once.
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := cli.Run(ctx, cli.Env{
		Streams: cli.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr},
		Getenv:  os.Getenv,
		Environ: os.Environ,
	}, os.Args[1:])
	stop()
	os.Exit(code)
}
