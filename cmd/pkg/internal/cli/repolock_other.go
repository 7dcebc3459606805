//go:build !unix

package cli

import "context"

// lockRepoFile does nothing where advisory file locks are not available;
// the repositories file is still replaced atomically.
func lockRepoFile(context.Context, string) (func(), error) { return func() {}, nil }
