package render

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// randomYAMLDoc builds a document line by line from pieces that stress the
// scanner: head keys and their near misses, every kind of scalar, block
// scalars, sequences, comments, and indentation that is often wrong.
func randomYAMLDoc(r *rand.Rand) string {
	keys := []string{
		"apiVersion", "kind", "metadata", "name", "annotations", "labels", "spec",
		"helm.sh/hook", "helm.sh/hook-weight", "helm.sh/hook-delete-policy",
		"Kind", "NAME", "y", "on", "1", "-1", ".5", ".x", "~", "<<", "a b", "a:b",
		"\"kind\"", "'name'", "\"a\\tb\"", "'it''s'", "\"\"", "é", "\u212aind", "a#b", "a #b",
	}
	values := []string{
		"", "v1", "Pod", "pre-install", "pre-install,post-install", "test-success", "\"5\"", "5", "-3", "0x10", "1.5",
		"yes", "no", "true", "null", "~", ".inf", ".nan", "'x'", "'a''b'", "\"q\"", "\"e\\u00e9\"", "\"bad\\/\"",
		"{}", "[]", "{a: b}", "[a, b]", "|", "|-", ">", "|+", "|2", "&a x", "*a", "!!str x", "a: b", "a #c",
		"http://x:80/#f", "-", "- x", "--x", "@x", "`x", "%x", "? x", ": x", "\"unterminated", "x # c", "\t", "é–“",
		"2001-01-01", "12345678901234567890", "[a, b]", "[\"a\", 'b', [c]]", "{a: b, c: {d: e}}", "[a: b]", "{a}", "[a,]", "[-]", "{\"a\":1}",
	}
	var b strings.Builder
	lines := 1 + r.IntN(12)
	for range lines {
		indent := []int{0, 0, 0, 1, 2, 2, 2, 3, 4, 4, 4, 5, 6, 6, 8}[r.IntN(15)]
		b.WriteString(strings.Repeat(" ", indent))
		if r.IntN(40) == 0 {
			b.WriteByte('\t')
		}
		switch r.IntN(14) {
		case 0:
			b.WriteString("# comment")
		case 1:
			// blank
		case 2:
			b.WriteString("-")
			if r.IntN(2) == 0 {
				b.WriteString(" " + values[r.IntN(len(values))])
			}
		case 3:
			b.WriteString("- " + keys[r.IntN(len(keys))] + ": " + values[r.IntN(len(values))])
		case 4:
			b.WriteString(values[r.IntN(len(values))])
		case 5:
			b.WriteString("block content line: with \"stuff\" # and more")
		default:
			b.WriteString(keys[r.IntN(len(keys))] + ":")
			if v := values[r.IntN(len(values))]; v != "" {
				b.WriteString(strings.Repeat(" ", 1+r.IntN(2)) + v)
			}
		}
		if r.IntN(30) == 0 {
			b.WriteString("  ")
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// randomHeadDoc builds a document that is mostly valid: a manifest head
// followed by random but well-indented nesting.
func randomHeadDoc(r *rand.Rand) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: " + []string{"Pod", "Job", "\"Svc\"", "'Secret'", "", "ConfigMap # c"}[r.IntN(6)] + "\n")
	b.WriteString("metadata:\n  name: " + []string{"nm", "'n''m'", "\"n m\"", "", "n:m"}[r.IntN(5)] + "\n")
	if r.IntN(3) > 0 {
		b.WriteString("  annotations:\n")
		for i := range r.IntN(4) {
			k := []string{"helm.sh/hook", "helm.sh/hook-weight", "helm.sh/hook-delete-policy", "other", "\"helm.sh/hook\""}[i%5]
			v := []string{"pre-install", "\"-5\"", "hook-succeeded", "", "'post-install, test'", "x # c"}[r.IntN(6)]
			b.WriteString("    " + k + ":")
			if v != "" {
				b.WriteString(" " + v)
			}
			b.WriteByte('\n')
		}
	}
	var nest func(indent, depth int, seq bool)
	nest = func(indent, depth int, seq bool) {
		pad := strings.Repeat(" ", indent)
		for i := range 1 + r.IntN(3) {
			prefix := pad
			inner := indent
			if seq {
				prefix = pad + "- "
				inner = indent + 2
			}
			key := []string{"a", "b", "kind", "metadata", "c.d/e", "\"q\"", "'s'"}[r.IntN(7)]
			if depth == 0 && (key == "kind" || key == "metadata") {
				key = "spec" // the head keys are written once, above
			}
			switch c := r.IntN(7); {
			case depth > 3 || c == 0:
				b.WriteString(prefix + key + ": " + []string{"x", "1", "'y'", "\"z\"", "{}", "[]", "a b # c", "[a, 'b', \"c\"]", "{a: b, 'c': [d, {e: f}]}", "[ -x, y:z ]"}[r.IntN(10)] + "\n")
			case c == 1:
				b.WriteString(prefix + key + ": |\n")
				first := inner + 2 + r.IntN(2)
				for j := range r.IntN(4) {
					b.WriteString(strings.Repeat(" ", first+min(j, r.IntN(2))) + "text: \"#\" \t-\n")
				}
			case c == 2 && !seq && i%2 == 0:
				b.WriteString(prefix + key + ":\n")
				nest(indent, depth+1, true) // an indentless sequence
			case c == 3:
				b.WriteString(prefix + key + ":\n")
				nest(inner+2, depth+1, true)
			default:
				b.WriteString(prefix + key + ":\n")
				nest(inner+2, depth+1, false)
			}
		}
	}
	nest(0, 0, false)
	return b.String()
}

// mutatedHeadDoc is randomHeadDoc with a few bytes inserted, deleted or
// moved: nearly valid documents, where a scanner that trusts indentation
// or quoting too early goes wrong.
func mutatedHeadDoc(r *rand.Rand) string {
	base := randomHeadDoc(r)
	if r.IntN(5) == 0 {
		base = strings.ReplaceAll(base, "\n", "\r\n")
	}
	if r.IntN(6) == 0 {
		base = []string{"---\n", "--- # c\n", "---\r\n"}[r.IntN(3)] + base
	}
	doc := []byte(base)
	inserts := []string{" ", "  ", "\t", ":", ": ", "- ", "#", " #", "'", "\"", "\n", "|", "{", "}", "[", "&a ", "*", "!", "\\", "---", "\r", "~", "?"}
	for range 1 + r.IntN(3) {
		i := r.IntN(len(doc) + 1)
		switch r.IntN(4) {
		case 0:
			if i < len(doc) {
				doc = append(doc[:i], doc[i+1:]...)
			}
		case 1:
			// Swap a line's indentation for another's.
			if j := strings.LastIndexByte(string(doc[:i]), '\n'); j >= 0 && j+1 < len(doc) && doc[j+1] == ' ' {
				doc = append(doc[:j+1], doc[j+2:]...)
			}
		default:
			ins := inserts[r.IntN(len(inserts))]
			doc = append(doc[:i], append([]byte(ins), doc[i:]...)...)
		}
	}
	return string(doc)
}

func TestScanManifestHeadRandomDocuments(t *testing.T) {
	t.Parallel()
	n := 20000
	if testing.Short() {
		n = 2000
	}
	for _, gen := range []struct {
		name    string
		doc     func(*rand.Rand) string
		minFast int // percent of documents the scanner must read
	}{
		{"random lines", randomYAMLDoc, 1},
		{"random nesting", randomHeadDoc, 99},
		{"mutated nesting", mutatedHeadDoc, 20},
	} {
		t.Run(gen.name, func(t *testing.T) {
			t.Parallel()
			r := rand.New(rand.NewPCG(1, uint64(len(gen.name))))
			fast := 0
			for range n {
				doc := gen.doc(r)
				got, ok := scanManifestHead(doc)
				if !ok {
					continue
				}
				fast++
				want, err := decodeManifestHead(doc)
				if err != nil {
					t.Fatalf("scanned %q, which does not decode: %v", doc, err)
				}
				if d := diffScannedHead(got, want); d != "" {
					t.Fatalf("%q: %s", doc, d)
				}
			}
			if fast*100 < gen.minFast*n {
				t.Errorf("scanner read %d of %d documents, want at least %d%%", fast, n, gen.minFast)
			}
			t.Logf("scanner read %d of %d documents", fast, n)
		})
	}
}
