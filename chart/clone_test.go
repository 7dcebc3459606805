package chart

import "testing"

func TestCloneIsIndependent(t *testing.T) {
	t.Parallel()
	sub := &Chart{Metadata: &Metadata{Name: "sub", Version: "1.0.0"}, Values: map[string]any{"a": 1}}
	root := &Chart{
		Metadata: &Metadata{Name: "root", Version: "1.0.0", Dependencies: []*Dependency{{Name: "sub", Tags: []string{"x"}}}},
		Values:   map[string]any{"b": 2},
		Files:    []*File{{Name: "f.txt", Data: []byte("hi")}},
	}
	root.AddDependency(sub)

	cp := root.Clone()
	if cp == root || cp.Metadata == root.Metadata || cp.Dependencies()[0] == sub {
		t.Fatal("clone shares chart structs with the original")
	}
	if cp.Dependencies()[0].Parent() != cp {
		t.Fatal("cloned subchart does not point at the cloned parent")
	}
	cp.Metadata.Dependencies[0].Name = "renamed"
	cp.Metadata.Dependencies[0].Tags[0] = "y"
	cp.Dependencies()[0].Metadata.Name = "alias"
	cp.SetDependencies()
	cp.Values = map[string]any{}
	if root.Metadata.Dependencies[0].Name != "sub" || root.Metadata.Dependencies[0].Tags[0] != "x" {
		t.Error("changing the clone's dependency entries changed the original")
	}
	if sub.Metadata.Name != "sub" || len(root.Dependencies()) != 1 || root.Values["b"] != 2 {
		t.Error("changing the clone's tree changed the original")
	}
	if string(cp.Files[0].Data) != "hi" {
		t.Error("clone lost file contents")
	}
}
