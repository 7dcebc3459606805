package render

import (
	"math"
	"slices"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// This file and yamlscalar.go are a direct encoder for toYaml. Helm's
// toYaml is sigs.k8s.io/yaml.Marshal: the value is encoded as JSON, the
// JSON is decoded by go-yaml v2 (so numbers become ints or floats again)
// and that is encoded by go-yaml v2's emitter. yamlEncoder writes the same
// bytes in one pass over the value for the shapes charts pass to toYaml:
// maps with string keys, lists, strings, numbers, booleans and nulls. It
// follows the emitter's rules for everything it writes (key order, scalar
// styles, indentation, line folding at 80 columns, escapes) and declines
// anything whose round trip through JSON it does not reproduce (other
// types, strings that JSON or the YAML reader would change or reject,
// keys that need the explicit "? " form, very deep trees); the caller then
// uses sigs.k8s.io/yaml. FuzzYAMLEncoder compares the two.

// Emitter parameters of go-yaml v2 as sigs.k8s.io/yaml uses it.
const (
	yamlIndent    = 2
	yamlWidth     = 80
	yamlMaxKey    = 128 // longer keys are written in the explicit form
	yamlMaxDepth  = 200 // deeper trees are left to the general encoder
	yamlInitIndnt = -1  // the indentation before the root node
)

// yamlEncoder holds the state of the emitter that decides spacing and
// line breaks: the output column (in characters), the indentation of the
// node being written, and whether the output ends in whitespace or is
// still within the indentation of its line.
type yamlEncoder struct {
	buf        []byte
	column     int
	indent     int
	whitespace bool
	indention  bool
	depth      int
}

// encodeYAMLFast returns what sigs.k8s.io/yaml.Marshal returns for v, or
// false when v is not one of the shapes it handles.
func encodeYAMLFast(v any) ([]byte, bool) {
	e := yamlEncoder{buf: make([]byte, 0, 256), indent: yamlInitIndnt, whitespace: true, indention: true}
	if !e.node(v, false) {
		return nil, false
	}
	// The end of the document: a final line break.
	e.writeIndent()
	return e.buf, true
}

// node writes one value; inMapping is set for the value of a mapping
// entry.
func (e *yamlEncoder) node(v any, inMapping bool) bool {
	switch t := v.(type) {
	case nil:
		e.plainToken("null")
	case bool:
		if t {
			e.plainToken("true")
		} else {
			e.plainToken("false")
		}
	case string:
		return e.stringScalar(t, false)
	case float64:
		s, ok := yamlFloat(t)
		if !ok {
			return false
		}
		e.plainToken(s)
	case int:
		e.plainToken(strconv.FormatInt(int64(t), 10))
	case int64:
		e.plainToken(strconv.FormatInt(t, 10))
	case int32:
		e.plainToken(strconv.FormatInt(int64(t), 10))
	case int16:
		e.plainToken(strconv.FormatInt(int64(t), 10))
	case int8:
		e.plainToken(strconv.FormatInt(int64(t), 10))
	case uint:
		e.plainToken(strconv.FormatUint(uint64(t), 10))
	case uint64:
		e.plainToken(strconv.FormatUint(t, 10))
	case uint32:
		e.plainToken(strconv.FormatUint(uint64(t), 10))
	case uint16:
		e.plainToken(strconv.FormatUint(uint64(t), 10))
	case map[string]any:
		return yamlStringMap(e, t)
	case Values:
		return e.node(map[string]any(t), inMapping)
	case map[string]string:
		return yamlStringMap(e, t)
	case []any:
		if t == nil {
			e.plainToken("null")
			return true
		}
		return e.sequence(len(t), inMapping, func(i int) any { return t[i] })
	case []string:
		if t == nil {
			e.plainToken("null")
			return true
		}
		return e.sequence(len(t), inMapping, func(i int) any { return t[i] })
	case []map[string]any:
		if t == nil {
			e.plainToken("null")
			return true
		}
		return e.sequence(len(t), inMapping, func(i int) any { return t[i] })
	default:
		return false
	}
	return true
}

// mapping writes a mapping of n entries, which each yields in key order:
// "{}" when empty, otherwise in block style, one "key: value" per line.
func (e *yamlEncoder) mapping(n int, entries func(yield func(string, any) bool) bool) bool {
	if n == 0 {
		e.flowEmpty("{}")
		return true
	}
	if e.depth++; e.depth > yamlMaxDepth {
		return false
	}
	saved := e.indent
	e.increaseIndent(false, false)
	ok := entries(func(k string, v any) bool {
		// A key must be short and on one line to be written as
		// "key:"; otherwise go-yaml writes "? key", which is left to
		// the general encoder.
		if len(k) > yamlMaxKey || !yamlSafeString(k) || containsBreak(k) {
			return false
		}
		e.writeIndent()
		if !e.stringScalar(k, true) {
			return false
		}
		e.writeIndicator(":", false, false, false)
		return e.node(v, true)
	})
	e.indent = saved
	e.depth--
	return ok
}

// sequence writes a list of n items: "[]" when empty, otherwise in block
// style, one "- item" per line. A list that is the value of a mapping is
// not indented further than its key.
func (e *yamlEncoder) sequence(n int, inMapping bool, item func(int) any) bool {
	if n == 0 {
		e.flowEmpty("[]")
		return true
	}
	if e.depth++; e.depth > yamlMaxDepth {
		return false
	}
	saved := e.indent
	e.increaseIndent(false, inMapping && !e.indention)
	for i := range n {
		e.writeIndent()
		e.writeIndicator("-", true, false, true)
		if !e.node(item(i), false) {
			return false
		}
	}
	e.indent = saved
	e.depth--
	return true
}

// flowEmpty writes an empty mapping or sequence in flow style.
func (e *yamlEncoder) flowEmpty(s string) {
	e.writeIndicator(s[:1], true, true, false)
	e.writeIndicator(s[1:], false, false, false)
}

// increaseIndent is the emitter's indentation step: the first block
// collection is at column 0, a scalar at 2, and each nested collection
// 2 further, except a sequence directly under a mapping key.
func (e *yamlEncoder) increaseIndent(flow, indentless bool) {
	switch {
	case e.indent < 0 && flow:
		e.indent = yamlIndent
	case e.indent < 0:
		e.indent = 0
	case !indentless:
		e.indent += yamlIndent
	}
}

// writeIndent starts a new line at the current indentation unless the
// output is already there.
func (e *yamlEncoder) writeIndent() {
	indent := max(e.indent, 0)
	if !e.indention || e.column > indent || (e.column == indent && !e.whitespace) {
		e.putBreak()
	}
	for e.column < indent {
		e.put(' ')
	}
	e.whitespace = true
	e.indention = true
}

// writeIndicator writes an indicator such as ":" or "-", after a space
// when needWS and the output does not end in whitespace.
func (e *yamlEncoder) writeIndicator(s string, needWS, isWS, isIndention bool) {
	if needWS && !e.whitespace {
		e.put(' ')
	}
	e.buf = append(e.buf, s...)
	e.column += len(s)
	e.whitespace = isWS
	e.indention = e.indention && isIndention
}

// plainToken writes a scalar that is plain and without spaces (a number,
// boolean or null) as a node's value.
func (e *yamlEncoder) plainToken(s string) {
	if !e.whitespace {
		e.put(' ')
	}
	e.buf = append(e.buf, s...)
	e.column += len(s)
	e.whitespace = false
	e.indention = false
}

func (e *yamlEncoder) put(c byte) {
	e.buf = append(e.buf, c)
	e.column++
}

func (e *yamlEncoder) putBreak() {
	e.buf = append(e.buf, '\n')
	e.column = 0
}

// yamlFloat returns how a float64 comes out of the JSON round trip: JSON
// writes it in decimal (exponent form below 1e-6 and from 1e21 on), go-yaml
// reads an integer-looking number back as an int, and writes floats with
// strconv's 'g' format. NaN and infinities are not JSON: false.
func yamlFloat(f float64) (string, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "", false
	}
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		return strconv.FormatFloat(f, 'g', -1, 64), true
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return strconv.FormatFloat(f, 'g', -1, 64), true
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return strconv.FormatInt(n, 10), true
	}
	if _, err := strconv.ParseUint(s, 10, 64); err == nil {
		return s, true
	}
	return strconv.FormatFloat(f, 'g', -1, 64), true
}

// yamlStringMap writes a map with string keys as a block mapping in
// sorted key order, or null for a nil map.
func yamlStringMap[V any](e *yamlEncoder, m map[string]V) bool {
	if m == nil {
		e.plainToken("null")
		return true
	}
	return e.mapping(len(m), func(yield func(string, any) bool) bool {
		for _, k := range yamlSortedKeys(m) {
			if !yield(k, m[k]) {
				return false
			}
		}
		return true
	})
}

// yamlSortedKeys returns the keys of m in go-yaml v2's order.
func yamlSortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareYAMLKeys)
	return keys
}

// compareYAMLKeys orders map keys as go-yaml v2 does: character by
// character, letters before other characters, and runs of digits by their
// numeric value (shorter first when equal), so that "a2" sorts before
// "a10".
func compareYAMLKeys(a, b string) int {
	if a == b {
		return 0
	}
	if yamlKeyLess(a, b) {
		return -1
	}
	if yamlKeyLess(b, a) {
		return 1
	}
	return 0
}

func yamlKeyLess(a, b string) bool {
	if isASCIIWord(a) && isASCIIWord(b) {
		return yamlKeyLessASCII(a, b)
	}
	ar, br := []rune(a), []rune(b)
	for i := 0; i < len(ar) && i < len(br); i++ {
		if ar[i] == br[i] {
			continue
		}
		al, bl := unicode.IsLetter(ar[i]), unicode.IsLetter(br[i])
		if al && bl {
			return ar[i] < br[i]
		}
		if al || bl {
			return bl
		}
		var an, bn int64
		if ar[i] == '0' || br[i] == '0' {
			for j := i - 1; j >= 0 && unicode.IsDigit(ar[j]); j-- {
				if ar[j] != '0' {
					an, bn = 1, 1
					break
				}
			}
		}
		ai, bi := i, i
		for ; ai < len(ar) && unicode.IsDigit(ar[ai]); ai++ {
			an = an*10 + int64(ar[ai]-'0')
		}
		for ; bi < len(br) && unicode.IsDigit(br[bi]); bi++ {
			bn = bn*10 + int64(br[bi]-'0')
		}
		if an != bn {
			return an < bn
		}
		if ai != bi {
			return ai < bi
		}
		return ar[i] < br[i]
	}
	return len(ar) < len(br)
}

// yamlKeyLessASCII is yamlKeyLess for ASCII keys, without converting them
// to runes.
func yamlKeyLessASCII(a, b string) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] == b[i] {
			continue
		}
		al, bl := isASCIILetter(a[i]), isASCIILetter(b[i])
		if al && bl {
			return a[i] < b[i]
		}
		if al || bl {
			return bl
		}
		var an, bn int64
		if a[i] == '0' || b[i] == '0' {
			for j := i - 1; j >= 0 && isASCIIDigit(a[j]); j-- {
				if a[j] != '0' {
					an, bn = 1, 1
					break
				}
			}
		}
		ai, bi := i, i
		for ; ai < len(a) && isASCIIDigit(a[ai]); ai++ {
			an = an*10 + int64(a[ai]-'0')
		}
		for ; bi < len(b) && isASCIIDigit(b[bi]); bi++ {
			bn = bn*10 + int64(b[bi]-'0')
		}
		if an != bn {
			return an < bn
		}
		if ai != bi {
			return ai < bi
		}
		return a[i] < b[i]
	}
	return len(a) < len(b)
}

// isASCIIWord reports whether s is all ASCII, so that its runes are its
// bytes.
func isASCIIWord(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isASCIIDigit(c byte) bool  { return c >= '0' && c <= '9' }
