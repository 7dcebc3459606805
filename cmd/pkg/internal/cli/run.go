package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// Streams are the standard streams a command reads and writes.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// Env is everything a command may take from its process: streams and the
// environment. Tests build one by hand.
type Env struct {
	Streams Streams
	// Getenv reads an environment variable; nil means an empty environment.
	Getenv func(string) string
	// Environ lists the whole environment ("KEY=value"), which plugins
	// inherit; nil means they inherit only the HELM_* settings.
	Environ func() []string
}

func (e Env) getenv(k string) string {
	if e.Getenv == nil {
		return ""
	}
	return e.Getenv(k)
}

// exitError carries a specific exit status out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// Run executes the command line args and returns the process exit status.
// Errors are printed as Helm prints them, by cobra: "Error: ..." on
// standard error, followed by a hint for an unknown command.
func Run(ctx context.Context, env Env, args []string) int {
	root := newRoot(env)
	root.SetArgs(args)
	root.SetIn(env.Streams.In)
	root.SetOut(env.Streams.Out)
	root.SetErr(env.Streams.Err)
	if err := root.ExecuteContext(ctx); err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		return 1
	}
	return 0
}

// usageError marks errors in how a command was called.
func usageError(cmd *cobra.Command, format string, a ...any) error {
	return fmt.Errorf("%q %s\n\nUsage:  %s", cmd.CommandPath(), fmt.Sprintf(format, a...), cmd.UseLine())
}

// warnFunc prints warnings from the libraries on standard error.
func warnFunc(env Env) func(string) {
	return func(msg string) { fmt.Fprintf(env.Streams.Err, "WARNING: %s\n", msg) }
}
