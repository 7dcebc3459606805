package render

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"helm.sh/helm/v3/pkg/cli/values"
	"helm.sh/helm/v3/pkg/getter"
)

// valueFiles are written to a temporary directory for the options tests.
var valueFiles = map[string]string{
	"base.yaml":    "a: {b: 1, c: [1, 2], d: {e: f}}\nlist: [x]\nkeep: base\nnull: null\n",
	"over.yaml":    "a: {b: 2, d: {g: h}, c: {now: map}}\nlist: [y, z]\nnew: 1\n",
	"scalar.yaml":  "a: replaced\n",
	"empty.yaml":   "",
	"null.yaml":    "null\n",
	"comment.yaml": "# nothing\n",
	"bad.yaml":     "a: 1\nb: [unclosed\nc: 3\n",
	"tab.yaml":     "a:\n\tb: 1\n",
	"list.yaml":    "- 1\n- 2\n",
	"dup.yaml":     "a: 1\na: 2\n",
	"content.txt":  "file content\nline 2\n",
	"num.txt":      "42",
}

func TestValueOptionsMergeMatchesHelm(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, content := range valueFiles {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f := func(names ...string) []string {
		var out []string
		for _, n := range names {
			out = append(out, filepath.Join(dir, n))
		}
		return out
	}
	tests := map[string]ValueOptions{
		"nothing":         {},
		"one file":        {ValueFiles: f("base.yaml")},
		"deep merge":      {ValueFiles: f("base.yaml", "over.yaml")},
		"scalar replaces": {ValueFiles: f("base.yaml", "scalar.yaml", "over.yaml")},
		"empty files":     {ValueFiles: f("empty.yaml", "null.yaml", "comment.yaml", "base.yaml", "empty.yaml")},
		"bad yaml":        {ValueFiles: f("base.yaml", "bad.yaml")},
		"tab yaml":        {ValueFiles: f("tab.yaml")},
		"list yaml":       {ValueFiles: f("list.yaml")},
		"duplicate keys":  {ValueFiles: f("dup.yaml")},
		"missing file":    {ValueFiles: f("base.yaml", "missing.yaml")},
		"flag order": {
			ValueFiles:    f("base.yaml"),
			JSONValues:    []string{`a={"b":"json","j":[1]}`, `list=[1,2]`},
			Values:        []string{"a.b=set,keep=007", "list[1]=s"},
			StringValues:  []string{"a.b=100", "s=true"},
			FileValues:    []string{"file=" + filepath.Join(dir, "content.txt"), "a.b=" + filepath.Join(dir, "num.txt")},
			LiteralValues: []string{"a.b=lit,eral", "l={x}"},
		},
		"set overrides file":     {ValueFiles: f("base.yaml"), Values: []string{"a.d.e=null,a.c[3]=4"}},
		"set error":              {Values: []string{"ok=1", "a[x]=1"}},
		"set type error":         {ValueFiles: f("base.yaml"), Values: []string{"keep.x=1"}},
		"set-string error":       {StringValues: []string{"a"}},
		"set-json error":         {JSONValues: []string{"a={bad"}},
		"set-file missing":       {FileValues: []string{"a=" + filepath.Join(dir, "nope.txt")}},
		"set-literal error":      {LiteralValues: []string{"a"}},
		"set-literal type error": {Values: []string{"a=1"}, LiteralValues: []string{"a.b=1"}},
	}
	read := func(name string) ([]byte, error) { return os.ReadFile(name) }
	for name, opts := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			helmOpts := values.Options{
				ValueFiles: opts.ValueFiles, Values: opts.Values, StringValues: opts.StringValues,
				FileValues: opts.FileValues, JSONValues: opts.JSONValues, LiteralValues: opts.LiteralValues,
			}
			want, wantErr := helmOpts.MergeValues(getter.Providers{})
			got, gotErr := opts.Merge(read)
			if valErrText(gotErr) != valErrText(wantErr) {
				t.Fatalf("error = %v, Helm's = %v", gotErr, wantErr)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("values differ:\n got  %#v\n want %#v", got, want)
			}
		})
	}
}

func TestValueOptionsStdin(t *testing.T) {
	t.Parallel()
	var asked []string
	read := func(name string) ([]byte, error) {
		asked = append(asked, name)
		if name == "-" {
			return []byte("from: stdin\n"), nil
		}
		return nil, errors.New("unexpected " + name)
	}
	got, err := ValueOptions{ValueFiles: []string{" - "}, FileValues: []string{"f=-"}}.Merge(read)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"from": "stdin", "f": "from: stdin\n"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
	if !reflect.DeepEqual(asked, []string{"-", "-"}) {
		t.Fatalf("read asked for %q", asked)
	}
}

func TestValueOptionsErrorTypes(t *testing.T) {
	t.Parallel()
	read := func(name string) ([]byte, error) {
		if name == "bad.yaml" {
			return []byte("a: [\n"), nil
		}
		return nil, os.ErrNotExist
	}
	_, err := ValueOptions{ValueFiles: []string{"bad.yaml"}}.Merge(read)
	var fe *ValueFileError
	if !errors.As(err, &fe) || fe.Name != "bad.yaml" || !fe.Parse {
		t.Fatalf("error = %#v, want a parse ValueFileError for bad.yaml", err)
	}
	_, err = ValueOptions{ValueFiles: []string{"gone.yaml"}}.Merge(read)
	if !errors.As(err, &fe) || fe.Parse || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("error = %#v, want a read ValueFileError wrapping ErrNotExist", err)
	}
	_, err = ValueOptions{Values: []string{"a[-1]=x"}}.Merge(read)
	var se *SetFlagError
	if !errors.As(err, &se) || se.Flag != "set" || se.Arg != "a[-1]=x" {
		t.Fatalf("error = %#v, want a SetFlagError for --set", err)
	}
}
