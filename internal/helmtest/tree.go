package helmtest

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// Tree lists the directory root for comparing what pkg and helm write
// (create, package, --output-dir): each file's relative path maps to its
// mode and contents, each folder's path (with a trailing "/") to its mode.
// A root that does not exist lists as empty.
func Tree(t testing.TB, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			out[rel+"/"] = info.Mode().String()
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[rel] = info.Mode().String() + "\n" + string(data)
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return out
}
