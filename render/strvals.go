package render

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits Helm puts on --set style keys.
const (
	// MaxSetIndex is the largest list index a --set key may use.
	MaxSetIndex = 65536
	// MaxSetNesting is the deepest a dotted --set key may nest.
	MaxSetNesting = 30
)

// errNotList tells the value reader that a value does not start with '{'.
var errNotList = errors.New("not a list")

// ParseSet parses a --set line ("a.b=1,c[0]=x,d={e,f}") into dest,
// overwriting what is there. Values are typed as Helm types them: true,
// false and null in any case become bool and nil, integers that do not
// start with 0 (and "0" itself) become int64, everything else stays a
// string. A backslash escapes the next character anywhere. dest must not
// be nil. On error dest may be partly updated, exactly as Helm leaves it.
func ParseSet(s string, dest map[string]any) error {
	return newSetParser(s, setTyped, nil).parse(dest)
}

// ParseSetString is ParseSet for --set-string: every value is a string.
func ParseSetString(s string, dest map[string]any) error {
	return newSetParser(s, setString, nil).parse(dest)
}

// ParseSetFile is ParseSet for --set-file: each value is a path, and the
// stored value is the content read returns for it, as a string.
func ParseSetFile(s string, dest map[string]any, read func(path string) ([]byte, error)) error {
	return newSetParser(s, setFile, read).parse(dest)
}

// ParseSetJSON is ParseSet for --set-json: each value is a JSON document
// (an empty value means null), decoded with encoding/json.
func ParseSetJSON(s string, dest map[string]any) error {
	return newSetParser(s, setJSON, nil).parse(dest)
}

// ParseSetLiteral is ParseSet for --set-literal: one key, and everything
// after the first '=' is its string value, commas and backslashes
// included.
func ParseSetLiteral(s string, dest map[string]any) error {
	return newSetParser(s, setLiteral, nil).parse(dest)
}

// setMode selects how a setParser reads values.
type setMode int

const (
	setTyped setMode = iota
	setString
	setFile
	setJSON
	setLiteral
)

// setParser is a recursive-descent reader over one --set line. Its
// methods mirror the grammar: a key is a name followed by '=' (a value),
// '.' (a nested key), '[' (a list index) or ',' (an error).
type setParser struct {
	src     string
	pos     int
	last    int // byte width of the rune read last, for unread
	mode    setMode
	readVal func(path string) ([]byte, error)
}

func newSetParser(s string, mode setMode, read func(string) ([]byte, error)) *setParser {
	return &setParser{src: s, mode: mode, readVal: read}
}

// conversionError stands for the type-assertion panic Helm's parser hits
// when a key walks into a value of the wrong kind. Helm recovers it in the
// innermost key being parsed and reports "unable to parse key: ..."; this
// parser carries it up to the same place as an error instead.
type conversionError struct {
	got  any
	want string
}

// Error returns the Go runtime's wording for the failed conversion.
func (e *conversionError) Error() string {
	got := "nil"
	if e.got != nil {
		got = fmt.Sprintf("%T", e.got)
	}
	return "interface conversion: interface {} is " + got + ", not " + e.want
}

// isConversion reports whether err is a conversionError, which unwinds
// to the enclosing key without any further stores.
func isConversion(err error) bool {
	_, ok := err.(*conversionError)
	return ok
}

func (p *setParser) parse(dest map[string]any) error {
	for {
		switch err := p.key(dest, 0); err {
		case nil:
		case io.EOF:
			return nil
		default:
			return err
		}
	}
}

// next reads one rune; ok is false at the end of the input.
func (p *setParser) next() (rune, bool) {
	if p.pos >= len(p.src) {
		p.last = 0
		return 0, false
	}
	r, n := utf8.DecodeRuneInString(p.src[p.pos:])
	p.pos += n
	p.last = n
	return r, true
}

// unread steps back over the rune read last.
func (p *setParser) unread() { p.pos -= p.last; p.last = 0 }

// until reads up to and including the first rune in stop, unescaping
// backslashes unless the parser is literal. It returns the text read, the
// stop rune, and io.EOF if the input ended first.
func (p *setParser) until(stop string) (string, rune, error) {
	var b strings.Builder
	for {
		r, ok := p.next()
		if !ok {
			return b.String(), 0, io.EOF
		}
		if strings.ContainsRune(stop, r) {
			return b.String(), r, nil
		}
		if r == '\\' && p.mode != setLiteral {
			if r, ok = p.next(); !ok {
				return b.String(), 0, io.EOF
			}
		}
		b.WriteRune(r)
	}
}

// convert turns a raw value into the value stored for it.
func (p *setParser) convert(s string) (any, error) {
	switch p.mode {
	case setString:
		return s, nil
	case setFile:
		data, err := p.readVal(s)
		if err != nil {
			return nil, err
		}
		return string(data), nil
	}
	return typedValue(s), nil
}

// typedValue gives a --set value Helm's type.
func typedValue(s string) any {
	switch {
	case strings.EqualFold(s, "true"):
		return true
	case strings.EqualFold(s, "false"):
		return false
	case strings.EqualFold(s, "null"):
		return nil
	case s == "0":
		return int64(0)
	}
	if s != "" && s[0] != '0' {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
	}
	return s
}

// store sets data[key] unless the key is empty, which Helm ignores.
func store(data map[string]any, key string, val any) {
	if key != "" {
		data[key] = val
	}
}

// key reads one key and what follows it into data.
func (p *setParser) key(data map[string]any, depth int) error {
	err := p.keyBody(data, depth)
	if isConversion(err) {
		return fmt.Errorf("unable to parse key: %w", err)
	}
	return err
}

func (p *setParser) keyBody(data map[string]any, depth int) error {
	stop := "=[,."
	if p.mode == setLiteral {
		stop = "=[."
	}
	name, last, err := p.until(stop)
	if err != nil {
		if name == "" {
			return err
		}
		return fmt.Errorf("key %q has no value", name)
	}
	switch last {
	case '[':
		i, err := p.index()
		if err != nil {
			return err
		}
		list := []any{}
		if cur, ok := data[name]; ok {
			l, ok := cur.([]any)
			if !ok {
				return &conversionError{cur, "[]interface {}"}
			}
			list = l
		}
		list, err = p.listItem(list, i, depth)
		if isConversion(err) {
			return err
		}
		store(data, name, list)
		return err
	case '=':
		return p.assign(data, name)
	case ',':
		store(data, name, "")
		return fmt.Errorf("key %q has no value (cannot end with ,)", name)
	default: // '.'
		depth++
		if depth > MaxSetNesting {
			return fmt.Errorf("value name nested level is greater than maximum supported nested level of %d", MaxSetNesting)
		}
		inner := map[string]any{}
		if cur, ok := data[name]; ok {
			m, ok := cur.(map[string]any)
			if !ok {
				return &conversionError{cur, "map[string]interface {}"}
			}
			inner = m
		}
		err := p.key(inner, depth)
		if err == nil && len(inner) == 0 {
			return fmt.Errorf("key map %q has no value", name)
		}
		if len(inner) != 0 {
			store(data, name, inner)
		}
		return err
	}
}

// assign reads the value after "name=" and stores it.
func (p *setParser) assign(data map[string]any, name string) error {
	switch p.mode {
	case setLiteral:
		store(data, name, p.rest())
		return nil
	case setJSON:
		if p.emptyValue() {
			store(data, name, nil)
			return nil
		}
		return p.jsonValue(func(v any) error { store(data, name, v); return nil })
	}
	list, err := p.valueList()
	switch err {
	case nil:
		store(data, name, list)
		return nil
	case io.EOF:
		store(data, name, "")
		return err
	case errNotList:
		v, err := p.convert(p.value())
		store(data, name, v)
		return err
	}
	return err
}

// listItem reads what follows "[i]" and stores it at list[i], returning
// the (possibly grown) list.
func (p *setParser) listItem(list []any, i, depth int) ([]any, error) {
	if i < 0 {
		return list, fmt.Errorf("negative %d index not allowed", i)
	}
	text, last, err := p.until("[.=")
	switch {
	case text != "":
		return list, fmt.Errorf("unexpected data at end of array index: %q", []rune(text))
	case err != nil:
		return list, err
	}
	switch last {
	case '=':
		return p.assignIndex(list, i)
	case '[':
		j, err := p.index()
		if err != nil {
			return list, err
		}
		var inner []any
		if i < len(list) && list[i] != nil {
			l, ok := list[i].([]any)
			if !ok {
				return list, &conversionError{list[i], "[]interface {}"}
			}
			inner = l
		}
		inner, err = p.listItem(inner, j, depth)
		if err != nil {
			return list, err
		}
		return setIndex(list, i, inner)
	default: // '.'
		inner := map[string]any{}
		if i < len(list) {
			m, ok := list[i].(map[string]any)
			if !ok {
				m = map[string]any{}
				list[i] = m
			}
			inner = m
		}
		if err := p.key(inner, depth); err != nil {
			return list, err
		}
		return setIndex(list, i, inner)
	}
}

// assignIndex reads the value after "[i]=" and stores it at list[i].
func (p *setParser) assignIndex(list []any, i int) ([]any, error) {
	switch p.mode {
	case setLiteral:
		return setIndex(list, i, p.rest())
	case setJSON:
		if p.emptyValue() {
			return setIndex(list, i, nil)
		}
		err := p.jsonValue(func(v any) error {
			var err error
			list, err = setIndex(list, i, v)
			return err
		})
		return list, err
	}
	vals, err := p.valueList()
	switch err {
	case nil:
		return setIndex(list, i, vals)
	case io.EOF:
		return setIndex(list, i, "")
	case errNotList:
		v, err := p.convert(p.value())
		if err != nil {
			return list, err
		}
		return setIndex(list, i, v)
	}
	return list, err
}

// setIndex stores val at list[i], growing the list with nils as needed.
func setIndex(list []any, i int, val any) ([]any, error) {
	if i < 0 {
		return list, fmt.Errorf("negative %d index not allowed", i)
	}
	if i > MaxSetIndex {
		return list, fmt.Errorf("index of %d is greater than maximum supported index of %d", i, MaxSetIndex)
	}
	if i >= len(list) {
		grown := make([]any, i+1)
		copy(grown, list)
		list = grown
	}
	list[i] = val
	return list, nil
}

// index reads a list index up to ']'.
func (p *setParser) index() (int, error) {
	text, _, err := p.until("]")
	if err == nil {
		var n int
		if n, err = strconv.Atoi(text); err == nil {
			return n, nil
		}
	}
	return 0, fmt.Errorf("error parsing index: %w", err)
}

// value reads a plain value up to the next ','.
func (p *setParser) value() string {
	text, _, _ := p.until(",")
	return text
}

// rest consumes and returns the remainder of the input.
func (p *setParser) rest() string {
	// Read rune by rune as Helm does: each invalid UTF-8 byte becomes
	// U+FFFD.
	var b strings.Builder
	for r, ok := p.next(); ok; r, ok = p.next() {
		b.WriteRune(r)
	}
	return b.String()
}

// valueList reads a "{a,b,c}" list. It returns errNotList when the value
// does not start with '{' (nothing is consumed), and io.EOF when there is
// no value at all.
func (p *setParser) valueList() ([]any, error) {
	r, ok := p.next()
	if !ok {
		return []any{}, io.EOF
	}
	if r != '{' {
		p.unread()
		return []any{}, errNotList
	}
	list := []any{}
	for {
		text, last, err := p.until(",}")
		if err != nil {
			return list, errors.New("list must terminate with '}'")
		}
		if last == '}' {
			if r, ok := p.next(); ok && r != ',' {
				p.unread()
			}
			v, err := p.convert(text)
			list = append(list, v)
			return list, err
		}
		v, err := p.convert(text)
		if err != nil {
			return list, err
		}
		list = append(list, v)
	}
}

// emptyValue skips blanks; it reports true, consuming a ',' if one
// follows, when no value follows.
func (p *setParser) emptyValue() bool {
	for {
		r, ok := p.next()
		if !ok || r == ',' {
			return true
		}
		if !unicode.IsSpace(r) {
			p.unread()
			return false
		}
	}
}

// jsonValue decodes one JSON document from the input, hands it to keep,
// then skips it and any blanks and comma after it.
func (p *setParser) jsonValue(keep func(any) error) error {
	dec := json.NewDecoder(strings.NewReader(p.src[p.pos:]))
	var v any
	if err := dec.Decode(&v); err != nil {
		return err
	}
	if err := keep(v); err != nil {
		return err
	}
	p.pos += int(dec.InputOffset())
	p.emptyValue()
	return nil
}
