package render

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"pkg.dev/pkg/chart"
)

// yamlCheck requires encodeYAMLFast to give exactly what
// sigs.k8s.io/yaml.Marshal gives for v, or to decline; it reports whether
// it handled v.
func yamlCheck(t testing.TB, v any) bool {
	t.Helper()
	got, ok := encodeYAMLFast(v)
	want, err := yaml.Marshal(v)
	if !ok {
		return false
	}
	if err != nil {
		t.Fatalf("sigs.k8s.io/yaml fails (%v) on %#v, the fast encoder gives %q", err, v, got)
	}
	if string(got) != string(want) {
		t.Fatalf("encoding %#v\n got  %q\n want %q", v, got, want)
	}
	return true
}

// yamlTrickyStrings are strings on the edges of the emitter's rules.
var yamlTrickyStrings = []string{
	"", " ", "a", "a b", " a", "a ", "a  b", "a\tb", "\t", "a\n", "a\nb", "\n", "\n\n", "a\n\n", "\na",
	" a\nb", "a \nb", "a\n b", "a\n\nb\n", "x\n\n\n", "line1\nline2 \n", "a\x00b", "\x1b[0m", "\a\b\v\f",
	"true", "True", "yes", "Y", "n", "on", "OFF", "null", "~", "NULL", "Null", "<<", "=",
	"1", "-1", "+1", "01", "0x1F", "0o17", "0b101", "-0b101", "0b", "1_000", "_1", "1.5", ".5", "5.", "-.5",
	"1e3", "1E-3", "1e", ".inf", "-.Inf", ".nan", ".NaN", "+.inf", ".", "..", "...", "---", "--", "-", "- a", "-a",
	"12:30", "1:2:3", "190:20:30.15", "1:60", "1:5", "+1:30", "1:30.5", "1:30.", "12:345", "1_0:20",
	"2024-01-01", "2024-1-2", "2001-12-14t21:59:43.10-05:00", "2002-12-14 21:59:43.10", "2024-13-01", "1234-",
	"#", "a #b", "a#b", "a: b", "a:b", "a:", ":", "? a", "?a", "a,b", "[a]", "{a}", "&a", "*a", "!a", "|", ">",
	"'", "'a'", "\"", "a\"b", "a'b", "%", "@a", "`a`", "a\\b", "\\",
	"é", "中文", "naïve café", "\u00a0", "a\u00a0b", "😀", "a😀b", "\ufffd", "\ue000", "\ud7ff",
	strings.Repeat("word ", 30), strings.Repeat("x", 100), strings.Repeat("ab ", 40) + "  c",
	strings.Repeat("a", 79) + " b c d", strings.Repeat("a", 80) + " b c", strings.Repeat("a", 81) + " b",
	strings.Repeat("a", 78) + "  b  c", strings.Repeat("é ", 50), strings.Repeat("\"q\" ", 30),
	strings.Repeat("it's ", 25), "- " + strings.Repeat("z ", 50), strings.Repeat("x\t", 50),
	strings.Repeat("long line with spaces ", 6) + "\nsecond line",
	// Characters the encoder leaves to sigs.k8s.io/yaml.
	"a\rb", "\x7f", "\u0085", "a\u2028b", "\u2029", "\ufeffa", "a\ufeff", "\uffff", "\xff", "a\xc3",
}

func TestYAMLEncoderCases(t *testing.T) {
	t.Parallel()
	var handled int
	check := func(v any) {
		if yamlCheck(t, v) {
			handled++
		}
	}
	for _, s := range yamlTrickyStrings {
		check(s)
		check(map[string]any{"k": s})
		check(map[string]any{s: "v"})
		check([]any{s, map[string]any{"a": s, "b": []any{s}}})
		check(map[string]any{"outer": map[string]any{"inner": []any{map[string]any{"x": s, s: 1}}}})
	}
	for _, f := range []float64{0, math.Copysign(0, -1), 1, -1, 1.5, 64, 1e6, 1e20, 1e21, 1e-6, 1e-7, 123456789.5,
		0.1, 1.0 / 3, math.MaxInt64, math.MinInt64, 1 << 63, 1 << 64, math.MaxFloat64, math.SmallestNonzeroFloat64,
		-1e21, 2.5e-5, 100000000000000000000.5} {
		check(f)
		check(map[string]any{"f": f})
	}
	for _, v := range []any{
		nil, true, false, 0, int64(math.MinInt64), uint64(math.MaxUint64), int8(-3), uint16(7), int32(9),
		map[string]any{}, []any{}, map[string]any(nil), []any(nil), Values{"a": Values{"b": 1}},
		map[string]string{"b": "2", "a": "1"}, []string{"x", "y"}, []map[string]any{{"a": 1}, {}},
		map[string]any{"a": []any{}, "b": map[string]any{}, "c": nil, "d": []any{[]any{}, map[string]any{}}},
		[]any{[]any{[]any{1, 2}, 3}, map[string]any{"k": []any{map[string]any{"x": []any{1}}}}},
		map[string]any{"a10": 1, "a2": 2, "a1": 3, "b": 4, "A": 5, "_": 6, "1": 7, "01": 8, "10": 9, "-": 10, "é": 11, "z9z": 12, "z10": 13},
		map[string]any{strings.Repeat("k", 128): 1}, map[string]any{strings.Repeat("k", 129): 1},
		map[string]any{"multi\nline": 1}, map[string]any{"": ""},
		[]int{1, 2}, struct{ A int }{1}, map[int]string{1: "a"}, math.NaN(), math.Inf(1), float32(1.5), []byte("x"),
	} {
		check(v)
	}
	t.Logf("handled %d", handled)
	if handled < 500 {
		t.Errorf("the fast encoder handled only %d values", handled)
	}
}

// TestYAMLEncoderChartValues encodes the values of every test chart, and
// each of their sections, which the fast encoder must all handle.
func TestYAMLEncoderChartValues(t *testing.T) {
	t.Parallel()
	dirs, err := filepath.Glob(filepath.Join("..", "testdata", "charts", "*", "Chart.yaml"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no charts: %v", err)
	}
	for _, f := range dirs {
		c, err := chart.Load(filepath.Dir(f))
		if err != nil {
			continue
		}
		var walk func(v any)
		walk = func(v any) {
			if !yamlCheck(t, v) {
				t.Errorf("%s: not handled: %#v", filepath.Dir(f), v)
				return
			}
			switch v := v.(type) {
			case map[string]any:
				for _, e := range v {
					walk(e)
				}
			case []any:
				for _, e := range v {
					walk(e)
				}
			}
		}
		walk(map[string]any(c.Values))
	}
}

// yamlRandomString draws a string from pieces that exercise the
// emitter's rules.
func yamlRandomString(r *rand.Rand) string {
	pieces := []string{"a", "b", "Z", "0", "1", "9", " ", "  ", "-", ".", ":", "#", "'", "\"", "\\", ",", "[", "}",
		"?", "&", "*", "!", "|", ">", "%", "@", "`", "~", "\n", "\t", "é", "中", "😀", "\u00a0", "\x00", "\x1b",
		"true", "null", "yes", "0x", "e", "E", "+", "_", "2024-01-01", "12:30", "word ", "longer words here ",
		strings.Repeat("x", 30), "\r", "\x7f", "\u2028", "\ufeff"}
	if r.IntN(8) == 0 {
		return yamlTrickyStrings[r.IntN(len(yamlTrickyStrings))]
	}
	var b strings.Builder
	for range r.IntN(12) {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

// yamlRandomValue draws a values tree of at most depth levels.
func yamlRandomValue(r *rand.Rand, depth int) any {
	n := 9
	if depth <= 0 {
		n = 6
	}
	switch r.IntN(n) {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		return yamlRandomString(r)
	case 3:
		return yamlRandomString(r)
	case 4:
		fs := []float64{0, 1, -1, 0.5, 1e21, 1e-7, 3e20, 12345.678, float64(r.IntN(1 << 20)), r.NormFloat64() * 1e6}
		return fs[r.IntN(len(fs))]
	case 5:
		return r.IntN(1000) - 500
	case 6, 7:
		m := map[string]any{}
		for range r.IntN(6) {
			m[yamlRandomString(r)] = yamlRandomValue(r, depth-1)
		}
		return m
	default:
		l := []any{}
		for range r.IntN(5) {
			l = append(l, yamlRandomValue(r, depth-1))
		}
		return l
	}
}

func TestYAMLEncoderRandom(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	handled, total := 0, 3000
	if testing.Short() {
		total = 300
	}
	for range total {
		if yamlCheck(t, yamlRandomValue(r, 4)) {
			handled++
		}
	}
	t.Logf("handled %d of %d", handled, total)
	if handled < total/4 {
		t.Errorf("the fast encoder handled only %d of %d random values", handled, total)
	}
}

// FuzzYAMLEncoder compares the fast encoder with sigs.k8s.io/yaml on
// values built from fuzzed strings and numbers.
func FuzzYAMLEncoder(f *testing.F) {
	for i, s := range yamlTrickyStrings {
		f.Add(s, yamlTrickyStrings[(i+7)%len(yamlTrickyStrings)], float64(i)*1.5, int64(i), uint8(i))
	}
	f.Fuzz(func(t *testing.T, a, b string, x float64, n int64, shape uint8) {
		var v any
		switch shape % 6 {
		case 0:
			v = map[string]any{a: b, b: []any{a, x, n}}
		case 1:
			v = []any{a, map[string]any{"k": b, a: map[string]any{b: x}}, []any{n, nil, true}}
		case 2:
			v = map[string]any{"list": []any{map[string]any{a: b, "n": n}}, "empty": map[string]any{}}
		case 3:
			v = a
		case 4:
			v = x
		default:
			v = map[string]string{a: b, b: a}
		}
		yamlCheck(t, v)
	})
}

// BenchmarkToYAML encodes the values of this repository's test charts,
// and each top-level section of them, as toYaml sees them.
func BenchmarkToYAML(b *testing.B) {
	var vals []any
	for _, name := range []string{"bigchart", "webstack", "hello", "nested", "serialization"} {
		c, err := chart.Load(filepath.Join("..", "testdata", "charts", name))
		if err != nil {
			b.Fatal(err)
		}
		vals = append(vals, map[string]any(c.Values))
		for _, v := range c.Values {
			vals = append(vals, v)
		}
	}
	for _, v := range vals {
		if _, ok := encodeYAMLFast(v); !ok {
			b.Fatalf("not handled: %#v", v)
		}
	}
	b.Run("sigs.k8s.io-yaml", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, v := range vals {
				_, _ = yaml.Marshal(v)
			}
		}
	})
	b.Run("encodeYAML", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, v := range vals {
				_ = encodeYAML(v)
			}
		}
	})
}
