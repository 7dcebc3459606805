package image

import (
	"errors"
	"testing"
)

func TestShouldPull(t *testing.T) {
	t.Parallel()
	tests := []struct {
		policy  PullPolicy
		present bool
		want    bool
		wantErr error
	}{
		{PullAlways, true, true, nil},
		{PullAlways, false, true, nil},
		{PullIfNotPresent, true, false, nil},
		{PullIfNotPresent, false, true, nil},
		{"", false, true, nil},
		{PullNever, true, false, nil},
		{PullNever, false, false, ErrNeverPull},
	}
	for _, tt := range tests {
		t.Run(string(tt.policy), func(t *testing.T) {
			got, err := ShouldPull(tt.policy, tt.present)
			if got != tt.want || !errors.Is(err, tt.wantErr) {
				t.Errorf("ShouldPull(%q, %v) = %v, %v; want %v, %v", tt.policy, tt.present, got, err, tt.want, tt.wantErr)
			}
		})
	}
	if _, err := ShouldPull("Sometimes", true); err == nil {
		t.Error("unknown policy: no error")
	}
}

func TestDefaultPullPolicy(t *testing.T) {
	t.Parallel()
	for ref, want := range map[string]PullPolicy{
		"nginx":                       PullAlways,
		"nginx:latest":                PullAlways,
		"localhost:5000/app":          PullAlways,
		"nginx:1.27":                  PullIfNotPresent,
		"nginx@sha256:" + hex64('a'):  PullIfNotPresent,
		"localhost:5000/app:v1":       PullIfNotPresent,
		"registry.example/a/b:latest": PullAlways,
	} {
		if got := DefaultPullPolicy(ref); got != want {
			t.Errorf("DefaultPullPolicy(%q) = %s, want %s", ref, got, want)
		}
	}
}

func hex64(c byte) string {
	b := make([]byte, 64)
	for i := range b {
		b[i] = c
	}
	return string(b)
}

func TestParseReference(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"nginx":                         "docker.io/library/nginx:latest",
		"index.docker.io/library/nginx": "docker.io/library/nginx:latest",
		"user/app:1":                    "docker.io/user/app:1",
		"localhost:5000/app":            "localhost:5000/app:latest",
		"127.0.0.1:5000/a/b@sha256:" + hex64('b'): "127.0.0.1:5000/a/b@sha256:" + hex64('b'),
	} {
		r, err := ParseReference(in)
		if err != nil || r.String() != want {
			t.Errorf("ParseReference(%q) = %s, %v; want %s", in, r, err, want)
		}
	}
	if _, err := ParseReference("Bad//Ref"); err == nil {
		t.Error("bad reference parsed")
	}
}

func TestEnsure(t *testing.T) {
	t.Parallel()
	host := startRegistry(t, nil)
	push(t, host+"/app:1", testImage(t, layer(t, entry{name: "v", body: "1"})))
	s := openStore(t)
	ref := host + "/app:1"
	if _, _, err := s.Ensure(bg, ref, PullNever, PullOptions{}); !errors.Is(err, ErrNeverPull) {
		t.Fatalf("Never, absent: err = %v, want ErrNeverPull", err)
	}
	steps := []struct {
		policy     PullPolicy
		wantPulled bool
	}{
		{PullIfNotPresent, true},
		{PullIfNotPresent, false},
		{"", false}, // a tag other than latest: IfNotPresent
		{PullNever, false},
		{PullAlways, true},
	}
	for i, st := range steps {
		img, pulled, err := s.Ensure(bg, ref, st.policy, PullOptions{})
		if err != nil || pulled != st.wantPulled || img.Digest == "" {
			t.Errorf("step %d (%s): pulled %v, err %v; want pulled %v", i, st.policy, pulled, err, st.wantPulled)
		}
	}
}
