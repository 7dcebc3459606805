package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"pkg.dev/pkg/repo"
)

const verifyLong = `
Verify that the given chart has a valid provenance file.

Provenance files provide cryptographic verification that a chart has not been
tampered with, and was packaged by a trusted provider.

This command can be used to verify a local chart. Several other commands provide
'--verify' flags that run the same validation. To generate a signed package, use
the 'pkg package --sign' command.
`

func newVerifyCmd(env Env) *cobra.Command {
	var keyring string
	cmd := &cobra.Command{
		Use:   "verify PATH",
		Short: "verify that a chart at the given path has been signed and is valid",
		Long:  verifyLong,
		Args:  exactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			v, err := verifyArchive(args[0], keyring)
			if err != nil {
				return err
			}
			return printVerification(env.Streams.Out, v)
		},
	}
	cmd.Flags().StringVar(&keyring, "keyring", helmPaths{env}.defaultKeyring(), "keyring containing public keys")
	return cmd
}

// verifyArchive checks a chart archive and its .prov with a keyring, as
// `helm verify` does.
func verifyArchive(path, keyring string) (*repo.Verification, error) {
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return nil, err
	case fi.IsDir():
		return nil, fmt.Errorf("unpacked charts cannot be verified")
	case !strings.EqualFold(filepath.Ext(path), ".tgz"):
		return nil, fmt.Errorf("chart must be a tgz file")
	}
	prov := path + ".prov"
	if _, err := os.Stat(prov); err != nil {
		return nil, fmt.Errorf("could not load provenance file %s: %w", prov, err)
	}
	ring, err := repo.LoadKeyring(keyring)
	if err != nil {
		return nil, fmt.Errorf("failed to load keyring: %w", err)
	}
	return repo.Verify(path, prov, ring)
}

// printVerification prints what `helm verify` prints.
func printVerification(w io.Writer, v *repo.Verification) error {
	for name := range v.SignedBy.Identities {
		fmt.Fprintf(w, "Signed by: %v\n", name)
	}
	fmt.Fprintf(w, "Using Key With Fingerprint: %X\n", v.SignedBy.PrimaryKey.Fingerprint)
	fmt.Fprintf(w, "Chart Hash Verified: %s\n", v.FileHash)
	return nil
}
