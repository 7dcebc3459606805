package render

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Scalar styles of go-yaml v2's emitter.
type yamlStyle int

const (
	yamlPlain yamlStyle = iota
	yamlSingleQuoted
	yamlDoubleQuoted
	yamlLiteral
)

// yamlSafeString reports whether s comes out of the JSON round trip of
// toYaml unchanged and is one the encoder writes itself: valid UTF-8
// (JSON would replace invalid bytes), without the characters go-yaml's
// reader rejects in JSON text (DEL, C1 controls, U+FFFE, U+FFFF), without
// line breaks other than "\n" (CR, NEL, LS, PS) and without a byte order
// mark. Other control characters are fine: JSON escapes them and the
// emitter escapes them again.
func yamlSafeString(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c == '\r' || c == 0x7F {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return false
		case r >= 0x80 && r <= 0x9F, r == 0x2028, r == 0x2029, r == 0xFEFF, r == 0xFFFE, r == 0xFFFF:
			return false
		}
		i += size
	}
	return true
}

func containsBreak(s string) bool { return strings.IndexByte(s, '\n') >= 0 }

// yamlScalarInfo is the emitter's analysis of a scalar: which styles can
// represent it.
type yamlScalarInfo struct {
	multiline      bool
	plainAllowed   bool // in block context
	singleAllowed  bool
	literalAllowed bool
}

// analyzeYAMLScalar works out which styles can hold s, by the emitter's
// rules: indicators at the start or after whitespace, leading and
// trailing spaces and breaks, spaces next to breaks, and characters that
// are not printable.
func analyzeYAMLScalar(s string) yamlScalarInfo {
	if s == "" {
		return yamlScalarInfo{plainAllowed: true, singleAllowed: true}
	}
	var (
		blockIndicators, lineBreaks, special        bool
		leadingSpace, leadingBreak                  bool
		trailingSpace, trailingBreak                bool
		breakSpace, spaceBreak                      bool
		precededByWS, followedByWS, prevSp, prevBrk bool
	)
	if strings.HasPrefix(s, "---") || strings.HasPrefix(s, "...") {
		blockIndicators = true
	}
	precededByWS = true
	for i, w := 0, 0; i < len(s); i += w {
		w = yamlCharWidth(s[i])
		followedByWS = i+w >= len(s) || s[i+w] == ' ' || s[i+w] == '\t'
		c := s[i]
		if i == 0 {
			switch c {
			case '#', ',', '[', ']', '{', '}', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
				blockIndicators = true
			case '?', ':', '-':
				if followedByWS {
					blockIndicators = true
				}
			}
		} else {
			switch c {
			case ':':
				if followedByWS {
					blockIndicators = true
				}
			case '#':
				if precededByWS {
					blockIndicators = true
				}
			}
		}
		if !yamlPrintable(s, i) {
			special = true
		}
		switch {
		case c == ' ':
			if i == 0 {
				leadingSpace = true
			}
			if i+w == len(s) {
				trailingSpace = true
			}
			if prevBrk {
				breakSpace = true
			}
			prevSp, prevBrk = true, false
		case c == '\n':
			lineBreaks = true
			if i == 0 {
				leadingBreak = true
			}
			if i+w == len(s) {
				trailingBreak = true
			}
			if prevSp {
				spaceBreak = true
			}
			prevSp, prevBrk = false, true
		default:
			prevSp, prevBrk = false, false
		}
		precededByWS = c == ' ' || c == '\t' || c == '\n' || c == 0
	}
	info := yamlScalarInfo{multiline: lineBreaks, plainAllowed: true, singleAllowed: true, literalAllowed: true}
	if leadingSpace || leadingBreak || trailingSpace || trailingBreak {
		info.plainAllowed = false
	}
	if trailingSpace {
		info.literalAllowed = false
	}
	if breakSpace {
		info.plainAllowed, info.singleAllowed = false, false
	}
	if spaceBreak || special {
		info.plainAllowed, info.singleAllowed, info.literalAllowed = false, false, false
	}
	if lineBreaks || blockIndicators {
		info.plainAllowed = false
	}
	return info
}

// yamlCharWidth is the length of the UTF-8 sequence starting with c.
func yamlCharWidth(c byte) int {
	switch {
	case c&0x80 == 0:
		return 1
	case c&0xE0 == 0xC0:
		return 2
	case c&0xF0 == 0xE0:
		return 3
	case c&0xF8 == 0xF0:
		return 4
	}
	return 0
}

// yamlPrintable reports whether the character at s[i] is one the emitter
// writes as is: "\n", printable ASCII, and the BMP from U+00A0 but for
// surrogates, the byte order mark, U+FFFE and U+FFFF. Characters beyond
// the BMP are not.
func yamlPrintable(s string, i int) bool {
	c := s[i]
	switch {
	case c == 0x0A, c >= 0x20 && c <= 0x7E:
		return true
	case c == 0xC2:
		return s[i+1] >= 0xA0
	case c > 0xC2 && c < 0xED:
		return true
	case c == 0xED:
		return s[i+1] < 0xA0
	case c == 0xEE:
		return true
	case c == 0xEF:
		return !(s[i+1] == 0xBB && s[i+2] == 0xBF) && !(s[i+1] == 0xBF && (s[i+2] == 0xBE || s[i+2] == 0xBF))
	}
	return false
}

// stringScalar writes a string as a mapping key (key set) or as a node,
// in the style go-yaml v2 picks: a literal block for text with line
// breaks, plain when the text would not read back as another type, and
// otherwise (or where the chosen style cannot hold the text) quoted.
func (e *yamlEncoder) stringScalar(s string, key bool) bool {
	if !key && !yamlSafeString(s) {
		return false
	}
	style := yamlDoubleQuoted
	switch {
	case containsBreak(s):
		style = yamlLiteral
	case yamlPlainResolvesToString(s):
		style = yamlPlain
	}
	info := analyzeYAMLScalar(s)
	if key && info.multiline {
		style = yamlDoubleQuoted
	}
	if style == yamlPlain && (!info.plainAllowed || (s == "" && key)) {
		style = yamlSingleQuoted
	}
	if style == yamlSingleQuoted && !info.singleAllowed {
		style = yamlDoubleQuoted
	}
	if style == yamlLiteral && (!info.literalAllowed || key) {
		style = yamlDoubleQuoted
	}

	saved := e.indent
	e.increaseIndent(true, false)
	switch style {
	case yamlPlain:
		e.writePlain(s, !key)
	case yamlSingleQuoted:
		e.writeSingleQuoted(s, !key)
	case yamlDoubleQuoted:
		e.writeDoubleQuoted(s, !key)
	case yamlLiteral:
		e.writeLiteral(s)
	}
	e.indent = saved
	return true
}

// writeChar copies the character at s[i] and returns the index after it.
func (e *yamlEncoder) writeChar(s string, i int) int {
	w := yamlCharWidth(s[i])
	e.buf = append(e.buf, s[i:i+w]...)
	e.column++
	return i + w
}

// writePlain writes a plain scalar, folding lines at a single space past
// the width when breaks are allowed.
func (e *yamlEncoder) writePlain(s string, allowBreaks bool) {
	if !e.whitespace {
		e.put(' ')
	}
	spaces := false
	for i := 0; i < len(s); {
		if s[i] == ' ' {
			if allowBreaks && !spaces && e.column > yamlWidth && !(i+1 < len(s) && s[i+1] == ' ') {
				e.writeIndent()
				i++
			} else {
				i = e.writeChar(s, i)
			}
			spaces = true
			continue
		}
		i = e.writeChar(s, i)
		e.indention = false
		spaces = false
	}
	e.whitespace = false
	e.indention = false
}

// writeSingleQuoted writes a single-quoted scalar (which holds no line
// breaks here), doubling quotes and folding lines as writePlain does.
func (e *yamlEncoder) writeSingleQuoted(s string, allowBreaks bool) {
	e.writeIndicator("'", true, false, false)
	spaces := false
	for i := 0; i < len(s); {
		if s[i] == ' ' {
			if allowBreaks && !spaces && e.column > yamlWidth && i > 0 && i < len(s)-1 && s[i+1] != ' ' {
				e.writeIndent()
				i++
			} else {
				i = e.writeChar(s, i)
			}
			spaces = true
			continue
		}
		if s[i] == '\'' {
			e.put('\'')
		}
		i = e.writeChar(s, i)
		e.indention = false
		spaces = false
	}
	e.writeIndicator("'", false, false, false)
	e.whitespace = false
	e.indention = false
}

// writeDoubleQuoted writes a double-quoted scalar with the emitter's
// escapes, folding lines at spaces past the width when breaks are
// allowed (a following space is then escaped).
func (e *yamlEncoder) writeDoubleQuoted(s string, allowBreaks bool) {
	e.writeIndicator(`"`, true, false, false)
	spaces := false
	for i := 0; i < len(s); {
		c := s[i]
		if !yamlPrintable(s, i) || c == '\n' || c == '"' || c == '\\' {
			r, w := utf8.DecodeRuneInString(s[i:])
			i += w
			e.writeEscape(r)
			spaces = false
			continue
		}
		if c == ' ' {
			if allowBreaks && !spaces && e.column > yamlWidth && i > 0 && i < len(s)-1 {
				e.writeIndent()
				if s[i+1] == ' ' {
					e.put('\\')
				}
				i++
			} else {
				i = e.writeChar(s, i)
			}
			spaces = true
			continue
		}
		i = e.writeChar(s, i)
		spaces = false
	}
	e.writeIndicator(`"`, false, false, false)
	e.whitespace = false
	e.indention = false
}

// writeEscape writes the double-quoted escape of r.
func (e *yamlEncoder) writeEscape(r rune) {
	e.put('\\')
	switch r {
	case 0x00:
		e.put('0')
	case 0x07:
		e.put('a')
	case 0x08:
		e.put('b')
	case 0x09:
		e.put('t')
	case 0x0A:
		e.put('n')
	case 0x0B:
		e.put('v')
	case 0x0C:
		e.put('f')
	case 0x0D:
		e.put('r')
	case 0x1B:
		e.put('e')
	case 0x22:
		e.put('"')
	case 0x5C:
		e.put('\\')
	case 0x85:
		e.put('N')
	case 0xA0:
		e.put('_')
	case 0x2028:
		e.put('L')
	case 0x2029:
		e.put('P')
	default:
		digits := 8
		switch {
		case r <= 0xFF:
			e.put('x')
			digits = 2
		case r <= 0xFFFF:
			e.put('u')
			digits = 4
		default:
			e.put('U')
		}
		for k := (digits - 1) * 4; k >= 0; k -= 4 {
			d := byte(r>>uint(k)) & 0x0F
			if d < 10 {
				e.put('0' + d)
			} else {
				e.put('A' + d - 10)
			}
		}
	}
}

// writeLiteral writes a literal block scalar: "|", an indentation hint
// when the text starts with a space or break, a chomping hint ("-" without
// a final break, "+" with more than one), and the lines indented.
func (e *yamlEncoder) writeLiteral(s string) {
	e.writeIndicator("|", true, false, false)
	if s != "" && (s[0] == ' ' || s[0] == '\n') {
		e.writeIndicator(strconv.Itoa(yamlIndent), false, false, false)
	}
	switch {
	case s == "" || s[len(s)-1] != '\n':
		e.writeIndicator("-", false, false, false)
	case len(s) == 1 || s[len(s)-2] == '\n':
		e.writeIndicator("+", false, false, false)
	}
	e.putBreak()
	e.indention = true
	e.whitespace = true
	breaks := true
	for i := 0; i < len(s); {
		if s[i] == '\n' {
			e.putBreak()
			i++
			e.indention = true
			breaks = true
			continue
		}
		if breaks {
			e.writeIndent()
		}
		i = e.writeChar(s, i)
		e.indention = false
		breaks = false
	}
}

// yamlPlainResolvesToString reports whether s, written plain, would read
// back as a string: go-yaml's resolver does not take it for a null,
// boolean, number or timestamp, and it is not a YAML 1.1 base 60 float.
func yamlPlainResolvesToString(s string) bool {
	if s == "" {
		return false
	}
	c := s[0]
	switch {
	case c == '+' || c == '-' || isASCIIDigit(c):
		if yamlReservedWord(s) {
			return false
		}
		return !yamlNumberOrTime(s) && !yamlBase60Float(s)
	case c == '.':
		if yamlReservedWord(s) {
			return false
		}
		_, err := strconv.ParseFloat(s, 64)
		return err != nil
	case strings.IndexByte("yYnNtTfFoO~", c) >= 0:
		return !yamlReservedWord(s)
	}
	return true
}

// yamlReservedWord reports the words go-yaml v2 resolves by name.
func yamlReservedWord(s string) bool {
	switch s {
	case "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON",
		"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF",
		"~", "null", "Null", "NULL",
		".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF":
		return true
	}
	return false
}

// yamlNumberOrTime reports whether go-yaml v2 reads s (starting with a
// sign or digit) as a timestamp, an integer (any base, underscores
// ignored) or a float.
func yamlNumberOrTime(s string) bool {
	if yamlTimestamp(s) {
		return true
	}
	plain := strings.ReplaceAll(s, "_", "")
	if _, err := strconv.ParseInt(plain, 0, 64); err == nil {
		return true
	}
	if _, err := strconv.ParseUint(plain, 0, 64); err == nil {
		return true
	}
	if yamlFloatSyntax(plain) {
		if _, err := strconv.ParseFloat(plain, 64); err == nil {
			return true
		}
	}
	if rest, ok := strings.CutPrefix(plain, "0b"); ok {
		if _, err := strconv.ParseInt(rest, 2, 64); err == nil {
			return true
		}
		if _, err := strconv.ParseUint(rest, 2, 64); err == nil {
			return true
		}
	} else if rest, ok := strings.CutPrefix(plain, "-0b"); ok {
		if _, err := strconv.ParseInt("-"+rest, 2, 64); err == nil {
			return true
		}
	}
	return false
}

// yamlFloatSyntax matches go-yaml v2's float syntax:
// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
func yamlFloatSyntax(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && isASCIIDigit(s[i]) {
			i++
			n++
		}
		return n
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	} else {
		if digits() == 0 {
			return false
		}
		if i < len(s) && s[i] == '.' {
			i++
			digits()
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// yamlBase60Float matches the YAML 1.1 sexagesimal floats go-yaml v2
// quotes: [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?
func yamlBase60Float(s string) bool {
	if strings.IndexByte(s, ':') < 0 {
		return false
	}
	i := 0
	if s[i] == '-' || s[i] == '+' {
		i++
	}
	if i >= len(s) || !isASCIIDigit(s[i]) {
		return false
	}
	for i < len(s) && (isASCIIDigit(s[i]) || s[i] == '_') {
		i++
	}
	groups := 0
	for i < len(s) && s[i] == ':' {
		i++
		n := 0
		for i < len(s) && isASCIIDigit(s[i]) && n < 2 {
			i++
			n++
		}
		// [0-5]?[0-9]: one digit, or two with the first at most 5.
		switch {
		case n == 0:
			return false
		case n == 2 && s[i-2] > '5':
			// The regexp may take only the second digit, which
			// then must be followed by ':' , '.' or the end; it
			// cannot, as the first digit was consumed. Treat as
			// "one digit followed by more".
			return false
		}
		groups++
	}
	if groups == 0 {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && (isASCIIDigit(s[i]) || s[i] == '_') {
			i++
		}
	}
	return i == len(s)
}

// yamlTimestamp reports whether go-yaml v2 reads s as a timestamp: it
// starts with four digits and a dash and parses with one of the layouts
// go-yaml tries.
func yamlTimestamp(s string) bool {
	i := 0
	for i < len(s) && isASCIIDigit(s[i]) {
		i++
	}
	if i != 4 || i == len(s) || s[i] != '-' {
		return false
	}
	layouts := [...]string{
		"2006-1-2T15:4:5.999999999Z07:00",
		"2006-1-2t15:4:5.999999999Z07:00",
		"2006-1-2 15:4:5.999999999",
		"2006-1-2",
	}
	for _, layout := range layouts {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}
