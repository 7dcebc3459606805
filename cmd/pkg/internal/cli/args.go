package cli

import (
	"github.com/spf13/cobra"
)

// Positional argument checks. Their messages are Helm's, so that a script
// or a person reading the error sees what `helm` would have said:
//
//	Error: "pkg show chart" requires 1 argument
//
//	Usage:  pkg show chart [CHART] [flags]

// noArgs refuses any positional argument.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError(cmd, "accepts no arguments")
	}
	return nil
}

// exactArgs requires exactly n positional arguments.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError(cmd, "requires %d %s", n, plural("argument", n))
		}
		return nil
	}
}

// minimumArgs requires at least n positional arguments.
func minimumArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return usageError(cmd, "requires at least %d %s", n, plural("argument", n))
		}
		return nil
	}
}

func plural(word string, n int) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
