package engine

import (
	"testing"

	"pkg.dev/pkg/chart"
)

func TestFilesMethods(t *testing.T) {
	t.Parallel()
	f := NewFiles([]*chart.File{{Name: "a/x.txt", Data: []byte("1\n2\n")}, {Name: "a/x.txt", Data: []byte("later")}, {Name: "b/y", Data: []byte("y")}})
	if got := f.Get("a/x.txt"); got != "later" {
		t.Errorf("later duplicate should win, got %q", got)
	}
	if got := f.Glob("b/*").AsConfig(); got != "\"y\": \"y\"" && got != "y: \"y\"" {
		t.Errorf("AsConfig = %q", got)
	}
	var none files
	if none.AsConfig() != "" || none.AsSecrets() != "" || len(none.Lines("x")) != 0 || none.Glob("*") == nil {
		t.Error("nil files misbehave")
	}
	if got := f.Glob("[").Glob("**"); len(got) != 2 {
		t.Errorf("invalid pattern should match all, got %v", got)
	}
}
