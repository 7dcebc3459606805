package lint

import (
	"errors"
	"testing"
)

func TestMessageText(t *testing.T) {
	tests := []struct {
		m    Message
		want string
	}{
		{Message{Info, "Chart.yaml", errors.New("icon is recommended")}, "[INFO] Chart.yaml: icon is recommended"},
		{Message{Warning, "templates/", errors.New("not a directory")}, "[WARNING] templates/: not a directory"},
		{Message{Error, "", errors.New("unable to load chart")}, "[ERROR] : unable to load chart"},
		{Message{Unknown, "x", errors.New("y")}, "[UNKNOWN] x: y"},
	}
	for _, tt := range tests {
		if got := tt.m.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

func TestResultSeverities(t *testing.T) {
	r := &Result{}
	if r.HighestSeverity() != Unknown || r.HasWarningsOrErrors() || len(r.Failures(true)) != 0 {
		t.Fatal("empty result reports findings")
	}
	cause := errors.New("icon")
	r.check(Info, "Chart.yaml", cause)
	r.check(Info, "Chart.yaml", nil)
	if r.HighestSeverity() != Info || r.HasWarningsOrErrors() || len(r.Failures(true)) != 0 {
		t.Fatalf("info only: %+v", r)
	}
	if !errors.Is(r.Messages[0], cause) {
		t.Error("message does not unwrap to its cause")
	}
	r.check(Warning, "templates/x.yaml", errors.New("name"))
	if !r.HasWarningsOrErrors() || len(r.Failures(false)) != 0 || len(r.Failures(true)) != 1 {
		t.Fatalf("warning: %+v", r)
	}
	r.check(Error, "values.yaml", errors.New("parse"))
	if r.HighestSeverity() != Error || len(r.Failures(false)) != 1 || len(r.Failures(true)) != 2 {
		t.Fatalf("error: %+v", r)
	}
}
