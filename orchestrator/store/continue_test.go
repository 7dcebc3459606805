package store

import (
	"errors"
	"testing"
)

func TestContinueRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []continueToken{
		{Rev: 1, Start: "a"},
		{Rev: 1 << 40, Start: "ns/name"},
		{Rev: 9223372036854775807, Start: "\x00\xff/é"},
	}
	for _, tok := range tests {
		t.Run(tok.Start, func(t *testing.T) {
			t.Parallel()
			got, err := decodeContinue(encodeContinue(tok))
			if err != nil {
				t.Fatal(err)
			}
			if got != tok {
				t.Errorf("round trip = %+v, want %+v", got, tok)
			}
		})
	}
}

func TestContinueRejects(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"empty":            "",
		"padding":          "AQFh==",
		"bad alphabet":     "AQ+h",
		"wrong version":    encodeContinue(continueToken{Rev: 1, Start: "a"})[1:],
		"zero revision":    "AQBh",
		"no start":         "AQE",
		"overflow":         "Af__________________AWE",
		"kubernetes token": "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MTAsInN0YXJ0IjoiYSJ9",
	}
	for name, s := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if tok, err := decodeContinue(s); !errors.Is(err, ErrInvalid) {
				t.Errorf("decodeContinue(%q) = %+v, %v; want ErrInvalid", s, tok, err)
			}
		})
	}
}

func FuzzDecodeContinue(f *testing.F) {
	f.Add(encodeContinue(continueToken{Rev: 5, Start: "ns/a"}))
	f.Add("AQBh")
	f.Add("")
	f.Add("Af__________________AWE")
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := decodeContinue(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if tok.Rev <= 0 || tok.Start == "" {
			t.Fatalf("accepted %+v", tok)
		}
		again, err := decodeContinue(encodeContinue(tok))
		if err != nil || again != tok {
			t.Fatalf("re-encoding %+v decodes to %+v, %v", tok, again, err)
		}
	})
}
