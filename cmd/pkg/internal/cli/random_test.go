package cli_test

import (
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// Some charts print random data (randAlphaNum, genCA, uuidv4, htpasswd…),
// so two runs of Helm itself differ. compareRandomAware compares such
// output in two passes:
//
//  1. lines that Helm printed identically in two runs (want and again)
//     hold nothing random and must be identical in got;
//  2. every other line must have the same shape: the same text once PEM
//     blocks, base64-encoded PEM, UUIDs and bcrypt hashes are replaced by
//     placeholders, and random tokens (runs of letters, digits and base64
//     characters) of the same length and alphabet stand for each other.
func compareRandomAware(want, again, got string) error {
	w, a, g := foldPEM(want), foldPEM(again), foldPEM(got)
	if len(w) != len(a) {
		return fmt.Errorf("helm's two runs have different shapes (%d and %d lines)", len(w), len(a))
	}
	if len(w) != len(g) {
		return fmt.Errorf("helm printed %d lines (PEM blocks folded), pkg %d", len(w), len(g))
	}
	for i := range w {
		if w[i] == g[i] {
			continue
		}
		if w[i] == a[i] {
			return fmt.Errorf("line %d is stable in helm's output but differs:\nhelm: %s\npkg:  %s", i+1, w[i], g[i])
		}
		if !sameShape(w[i], g[i]) {
			return fmt.Errorf("line %d differs beyond random tokens:\nhelm: %s\npkg:  %s", i+1, w[i], g[i])
		}
	}
	return nil
}

var pemBegin = regexp.MustCompile(`^(\s*)-----BEGIN ([A-Z0-9 ]+)-----\s*$`)

// foldPEM splits s into lines, replacing each PEM block (whose length in
// lines varies with the key) by one placeholder line naming its type.
func foldPEM(s string) []string {
	lines := strings.Split(s, "\n")
	var out []string
	for i := 0; i < len(lines); i++ {
		m := pemBegin.FindStringSubmatch(lines[i])
		if m == nil {
			out = append(out, lines[i])
			continue
		}
		end := i + 1
		for end < len(lines) && strings.TrimSpace(lines[end]) != "-----END "+m[2]+"-----" {
			end++
		}
		if end == len(lines) {
			out = append(out, lines[i])
			continue
		}
		var block strings.Builder
		for _, l := range lines[i : end+1] {
			block.WriteString(strings.TrimSpace(l) + "\n")
		}
		if p, _ := pem.Decode([]byte(block.String())); p == nil || p.Type != m[2] {
			out = append(out, lines[i])
			continue
		}
		out = append(out, m[1]+"<PEM "+m[2]+">")
		i = end
	}
	return out
}

var (
	b64PEM   = regexp.MustCompile(`LS0tLS1CRUdJTi[A-Za-z0-9+/]*={0,2}`)
	uuid     = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`)
	bcrypt   = regexp.MustCompile(`\$2[aby]?\$\d\d\$[./A-Za-z0-9]{53}`)
	tokenize = regexp.MustCompile(`[A-Za-z0-9+/=]+|[^A-Za-z0-9+/=]+`)
)

// placeholders replaces the random constructs of a line by their kind.
func placeholders(s string) string {
	s = b64PEM.ReplaceAllStringFunc(s, func(tok string) string {
		raw, err := base64.StdEncoding.DecodeString(tok)
		if err != nil {
			return tok
		}
		if p, _ := pem.Decode(raw); p != nil {
			return "<base64 PEM " + p.Type + ">"
		}
		return tok
	})
	s = uuid.ReplaceAllString(s, "<uuid>")
	return bcrypt.ReplaceAllString(s, "<bcrypt>")
}

// sameShape reports whether two lines differ only in random constructs.
func sameShape(a, b string) bool {
	a, b = placeholders(a), placeholders(b)
	if a == b {
		return true
	}
	at, bt := tokenize.FindAllString(a, -1), tokenize.FindAllString(b, -1)
	if len(at) != len(bt) {
		return false
	}
	for i := range at {
		if at[i] != bt[i] && !randomPair(at[i], bt[i]) {
			return false
		}
	}
	return true
}

// randomPair reports whether two different tokens could come from the
// same random generator: equal length, long enough not to be a word, the
// same alphabet (all digits, or letters, digits and base64 characters)
// and the same "=" padding.
func randomPair(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	isDigits := func(s string) bool { return strings.Trim(s, "0123456789") == "" }
	if isDigits(a) || isDigits(b) {
		return isDigits(a) && isDigits(b) && len(a) >= 6
	}
	if len(a) < 8 {
		return false
	}
	pad := func(s string) string { return s[len(strings.TrimRight(s, "=")):] }
	return pad(a) == pad(b)
}

func TestCompareRandomAware(t *testing.T) {
	t.Parallel()
	cert := func(body string) string {
		return "  tls.crt: |\n    -----BEGIN CERTIFICATE-----\n    " + body + "\n    -----END CERTIFICATE-----\n"
	}
	for _, tc := range []struct {
		name             string
		want, again, got string
		ok               bool
	}{
		{"identical", "a: 1\n", "a: 1\n", "a: 1\n", true},
		{"random token", "p: \"abcdEFGH1234\"\n", "p: \"zzzzYYYY9876\"\n", "p: \"QWERasdf0000\"\n", true},
		{"random token of another length", "p: \"abcdEFGH1234\"\n", "p: \"zzzzYYYY9876\"\n", "p: \"QWERasdf000\"\n", false},
		{"stable line changed", "kind: Secret\np: \"abcdEFGH1234\"\n", "kind: Secret\np: \"zzzzYYYY9876\"\n", "kind: Secrets\np: \"QWERasdf0000\"\n", false},
		{"uuid", "id: 374be919-1b0b-41c7-89e9-8049da12aa4e\n", "id: 612ee7b0-693f-40a6-b695-dff1105a1b85\n", "id: 0d8a3f3c-7a52-4a4e-9a39-4a3b55f5e0a1\n", true},
		{"short word differs", "a: 1\nb: abcdefghij\n", "a: 1\nb: klmnopqrst\n", "a: 2\nb: uvwxyzabcd\n", false},
		{"pem blocks of varying length", cert("MIIBszCCAVmgAwIBAgIRAJAA"), cert("MIIBszCCAVmgAwIBAgIRAJAA\n    MIIBtDCCAVqgAwIBAgIQXXAA"), cert("MIIB\n    MIIB\n    MIIB"), true},
		{"pem and plain text", cert("MIIBszCCAVmgAwIBAgIRAJAA"), cert("MIIBtDCCAVqgAwIBAgIQXXAA"), "  tls.crt: |\n    not a certificate\n", false},
		{"extra line", "a: 1\n", "a: 1\n", "a: 1\nb: 2\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := compareRandomAware(tc.want, tc.again, tc.got)
			if (err == nil) != tc.ok {
				t.Errorf("compareRandomAware: err = %v, want ok = %v", err, tc.ok)
			}
		})
	}
}
