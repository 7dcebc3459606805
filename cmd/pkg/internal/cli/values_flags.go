package cli

import (
	"io"
	"os"

	"github.com/spf13/pflag"

	"pkg.dev/pkg/render"
)

// addValueFlags registers Helm's values flags on f.
func addValueFlags(f *pflag.FlagSet, v *render.ValueOptions) {
	f.StringSliceVarP(&v.ValueFiles, "values", "f", []string{}, "specify values in a YAML file (can specify multiple)")
	f.StringArrayVar(&v.Values, "set", []string{}, "set values on the command line (can specify multiple or separate values with commas: key1=val1,key2=val2)")
	f.StringArrayVar(&v.StringValues, "set-string", []string{}, "set STRING values on the command line (can specify multiple or separate values with commas: key1=val1,key2=val2)")
	f.StringArrayVar(&v.FileValues, "set-file", []string{}, "set values from respective files specified via the command line (can specify multiple or separate values with commas: key1=path1,key2=path2)")
	f.StringArrayVar(&v.JSONValues, "set-json", []string{}, "set JSON values on the command line (can specify multiple or separate values with commas: key1=jsonval1,key2=jsonval2)")
	f.StringArrayVar(&v.LiteralValues, "set-literal", []string{}, "set a literal STRING value on the command line")
}

// fileReader returns the reader values flags use: a path, or "-" for
// standard input.
func fileReader(env Env) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		if name == "-" {
			return io.ReadAll(env.Streams.In)
		}
		return os.ReadFile(name)
	}
}
