package render

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Results of scanKey.
type keyScan uint8

const (
	keyNone  keyScan = iota // the text is not a key
	keyFound                // a key, followed by ": " or ":" at the end
	keyBad                  // a key the scanner does not handle
)

// scanKey reads a simple key at the start of t, returning it and the text
// after its colon.
func scanKey(t string) (key, after string, st keyScan) {
	var n int
	switch t[0] {
	case '"':
		var escaped bool
		key, n, escaped = scanDoubleQuoted(t)
		if n < 0 || escaped {
			return "", "", keyBad
		}
	case '\'':
		key, n = scanSingleQuoted(t)
		if n < 0 {
			return "", "", keyBad
		}
	case '[', '{':
		// A flow collection: a value, or a key the scanner does not
		// handle, which value finds out.
		return "", "", keyNone
	default:
		n = keyColon(t)
		if n < 0 {
			return "", "", keyNone
		}
		key = t[:n]
		if key == "" || key[len(key)-1] == ' ' || !plainStart(key) || !plainIsString(key) {
			return "", "", keyBad
		}
	}
	if n > maxSimpleKey || key == "<<" {
		return "", "", keyBad
	}
	if t[0] == '"' || t[0] == '\'' {
		if n >= len(t) || t[n] != ':' {
			return "", "", keyNone
		}
	}
	n++ // the colon
	if n < len(t) && t[n] != ' ' {
		return "", "", keyNone
	}
	return key, t[n:], keyFound
}

// keyColon returns the index of the first ':' in t that is followed by a
// space or ends t, or -1 if there is none before a comment.
func keyColon(t string) int {
	for from := 0; ; {
		i := strings.IndexByte(t[from:], ':')
		if i < 0 {
			return -1
		}
		i += from
		if i+1 == len(t) || t[i+1] == ' ' {
			if strings.Contains(t[:i], " #") {
				return -1
			}
			return i
		}
		from = i + 1
	}
}

// scanFlow reads a flow collection ("[a, 'b', {c: d}]") that starts t and
// closes on the same line, and returns the index after it, or -1 when it
// is not one the scanner handles: entries must be plain or quoted scalars
// or flow collections, and in mappings "key: value" pairs with string keys,
// separated by ", " without a trailing comma. The values only have to be
// valid, as they are never head fields.
func scanFlow(t string, depth int) int {
	if depth >= maxScanDepth {
		return -1
	}
	end := byte(']')
	if t[0] == '{' {
		end = '}'
	}
	i := skipSpaces(t, 1)
	if i < len(t) && t[i] == end {
		return i + 1
	}
	for {
		if end == '}' {
			n := scanFlowScalar(t[i:], true)
			if n < 0 {
				return -1
			}
			i = skipSpaces(t, i+n)
			if i+1 >= len(t) || t[i] != ':' || t[i+1] != ' ' {
				return -1
			}
			i = skipSpaces(t, i+1)
		}
		n := scanFlowNode(t[i:], depth)
		if n < 0 {
			return -1
		}
		i = skipSpaces(t, i+n)
		switch {
		case i >= len(t):
			return -1
		case t[i] == end:
			return i + 1
		case t[i] != ',':
			return -1
		}
		i = skipSpaces(t, i+1)
		if i >= len(t) || t[i] == ',' || t[i] == end {
			return -1
		}
	}
}

// scanFlowNode reads one entry of a flow collection and returns its
// length, or -1.
func scanFlowNode(t string, depth int) int {
	if t == "" {
		return -1
	}
	switch t[0] {
	case '[', '{':
		return scanFlow(t, depth+1)
	}
	return scanFlowScalar(t, false)
}

// scanFlowScalar reads a plain or quoted scalar inside a flow collection
// and returns its length, or -1. Keys must be strings; quoted keys must
// have no escapes.
func scanFlowScalar(t string, isKey bool) int {
	if t == "" {
		return -1
	}
	switch t[0] {
	case '"':
		_, n, escaped := scanDoubleQuoted(t)
		if isKey && (escaped || n > maxSimpleKey) {
			return -1
		}
		return n
	case '\'':
		_, n := scanSingleQuoted(t)
		if isKey && n > maxSimpleKey {
			return -1
		}
		return n
	}
	if isIndicator(t[0]) && !(t[0] == '-' && len(t) > 1 && !isFlowBreak(t[1])) {
		return -1
	}
	i := 0
	for ; i < len(t); i++ {
		c := t[i]
		if c == ',' || c == '[' || c == ']' || c == '{' || c == '}' {
			break
		}
		if c == '?' || (c == '#' && i > 0 && t[i-1] == ' ') {
			return -1
		}
		if c == ':' {
			if i+1 == len(t) || t[i+1] == ' ' {
				break
			}
			if isFlowBreak(t[i+1]) {
				return -1
			}
		}
	}
	val := strings.TrimRight(t[:i], " ")
	if val == "" || isInfOrNaN(val) || (isKey && (len(val) > maxSimpleKey || val == "<<" || !plainIsString(val))) {
		return -1
	}
	return len(val)
}

// isFlowBreak reports whether c ends a plain scalar in a flow collection,
// or is a space.
func isFlowBreak(c byte) bool {
	switch c {
	case ' ', ',', '[', ']', '{', '}':
		return true
	}
	return false
}

// skipSpaces returns the index of the first non-space byte of t at or
// after i.
func skipSpaces(t string, i int) int {
	for i < len(t) && t[i] == ' ' {
		i++
	}
	return i
}

// scanDoubleQuoted reads a double-quoted scalar that ends on its line, at
// the start of t. It returns the text between the quotes, undecoded, the
// index after the closing quote (-1 when the scalar is not one the scanner
// handles) and whether it holds escapes.
func scanDoubleQuoted(t string) (str string, end int, escaped bool) {
	for i := 1; i < len(t); {
		switch t[i] {
		case '"':
			return t[1:i], i + 1, escaped
		case '\\':
			escaped = true
			n := escapeLen(t[i+1:])
			if n <= 0 {
				return "", -1, false
			}
			i += 1 + n
		default:
			i++
		}
	}
	return "", -1, false
}

// escapeLen returns the length of the escape after a backslash at the start
// of t, or 0 when go.yaml.in/yaml/v2 would reject it (or it continues the
// scalar on the next line).
func escapeLen(t string) int {
	if t == "" {
		return 0
	}
	digits := 0
	switch t[0] {
	case '0', 'a', 'b', 't', 'n', 'v', 'f', 'r', 'e', ' ', '"', '\'', '\\', 'N', '_', 'L', 'P':
		return 1
	case 'x':
		digits = 2
	case 'u':
		digits = 4
	case 'U':
		digits = 8
	default:
		return 0
	}
	if len(t) < 1+digits {
		return 0
	}
	v, err := strconv.ParseUint(t[1:1+digits], 16, 64)
	if err != nil || (v >= 0xD800 && v <= 0xDFFF) || v > 0x10FFFF {
		return 0
	}
	return 1 + digits
}

// scanSingleQuoted reads a single-quoted scalar that ends on its line, at
// the start of t. It returns its decoded text and the index after the
// closing quote, or -1.
func scanSingleQuoted(t string) (str string, end int) {
	doubled := false
	for i := 1; i < len(t); i++ {
		if t[i] != '\'' {
			continue
		}
		if i+1 < len(t) && t[i+1] == '\'' {
			doubled = true
			i++
			continue
		}
		str = t[1:i]
		if doubled {
			str = strings.ReplaceAll(str, "''", "'")
		}
		return str, i + 1
	}
	return "", -1
}

// plainValue reads a plain scalar that fills the rest of its line, up to a
// comment. ok is false when the scalar does not start as a plain one or
// holds ": ", which YAML reads as a nested mapping.
func plainValue(t string) (string, bool) {
	if !plainStart(t) {
		return "", false
	}
	end := len(t)
	for i := 1; i < len(t); i++ {
		c := t[i]
		if c == '#' && t[i-1] == ' ' {
			end = i
			break
		}
		if c == ':' && (i+1 == len(t) || t[i+1] == ' ') {
			return "", false
		}
	}
	return strings.TrimRight(t[:end], " "), true
}

// plainStart reports whether t, in block context, starts with a plain
// scalar the scanner handles: not with an indicator, save a '-' followed by
// a non-space.
func plainStart(t string) bool {
	return !isIndicator(t[0]) || (t[0] == '-' && len(t) > 1 && t[1] != ' ')
}

// isLineEnd reports whether t, the rest of a line after a value, holds at
// most spaces and a comment.
func isLineEnd(t string) bool {
	if t == "" {
		return true
	}
	if t[0] != ' ' {
		return false
	}
	t = strings.TrimLeft(t, " ")
	return t == "" || t[0] == '#'
}

// isDashEntry reports whether t starts a block sequence entry.
func isDashEntry(t string) bool {
	return t != "" && t[0] == '-' && (len(t) == 1 || t[1] == ' ')
}

// isIndicator reports whether c is a YAML indicator, which cannot start a
// plain scalar (save '-', '?' and ':' before a non-space).
func isIndicator(c byte) bool {
	switch c {
	case '-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		return true
	}
	return false
}

// plainIsString reports whether go.yaml.in/yaml/v2 reads the plain scalar
// s as a string. Scalars starting with a digit or a sign are reported as
// non-strings unless they hold a character that no number or timestamp
// has.
func plainIsString(s string) bool {
	if s == "" {
		return false
	}
	switch c := s[0]; c {
	case '+', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		// A number or a timestamp is made of these characters only.
		return strings.Trim(s, "0123456789abcdefABCDEF_+-.:xXoOtTzZ ") != ""
	case '.':
		if isInfOrNaN(s) {
			return false
		}
		_, err := strconv.ParseFloat(s, 64)
		return err != nil
	case 'y', 'Y', 'n', 'N', 't', 'T', 'f', 'F', 'o', 'O', '~':
		switch s {
		case "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
			"true", "True", "TRUE", "false", "False", "FALSE",
			"on", "On", "ON", "off", "Off", "OFF",
			"null", "Null", "NULL", "~":
			return false
		}
	}
	return true
}

// isInfOrNaN reports whether go.yaml.in/yaml/v2 reads the plain scalar s
// as an infinite or NaN float, which JSON cannot encode.
func isInfOrNaN(s string) bool {
	switch s {
	case ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF",
		"+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF":
		return true
	}
	return false
}

// isASCII reports whether s is all ASCII.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// validYAMLChars reports whether every character of s is one that
// go.yaml.in/yaml/v2 reads as an ordinary character: printable, valid
// UTF-8, not a line break other than "\n" (NEL, LS and PS are breaks in
// YAML 1.1), not a byte order mark, and no tab unless allowTab.
func validYAMLChars(s string, allowTab bool) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if (c < 0x20 && (c != '\t' || !allowTab)) || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r < 0xA0 ||
			r == 0x2028 || r == 0x2029 || r == 0xFEFF || r == 0xFFFE || r == 0xFFFF {
			return false
		}
		i += size
	}
	return true
}
