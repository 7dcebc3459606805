package lint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"sigs.k8s.io/yaml"
)

// K8sYamlStruct is the part of a rendered Kubernetes object the template
// rules read. Field names and JSON keys are Helm's (matched without
// regard to case, as encoding/json does), and so is the type's name:
// decoding errors quote it.
type K8sYamlStruct struct {
	APIVersion string `json:"apiVersion"`
	Kind       string
	Metadata   k8sYamlMetadata
}

// k8sYamlMetadata is the part of an object's metadata the rules read.
type k8sYamlMetadata struct {
	Namespace string
	Name      string
}

// typeNamedError is a decoding error whose text names Helm's type.
type typeNamedError struct {
	text string
	err  error
}

func (e *typeNamedError) Error() string { return e.text }
func (e *typeNamedError) Unwrap() error { return e.err }

// renameType rewrites the Go type named in a JSON type error from ours
// (from) to Helm's (to); other errors are returned as they are.
func renameType(err error, from, to string) error {
	var ute *json.UnmarshalTypeError
	if err == nil || !errors.As(err, &ute) || ute.Type == nil || ute.Type.String() != from {
		return err
	}
	orig := ute.Error()
	fixed := strings.TrimSuffix(orig, from) + to
	return &typeNamedError{text: strings.Replace(err.Error(), orig, fixed, 1), err: err}
}

// asHelmTypes names Helm's types for the object types of this file in a
// decoding error.
func asHelmTypes(err error) error {
	err = renameType(err, "lint.K8sYamlStruct", "rules.K8sYamlStruct")
	return renameType(err, "lint.k8sYamlMetadata", "rules.k8sYamlMetadata")
}

// jsonOffsetError is a JSON syntax error with the offset where it was
// found, worded as the Kubernetes decoder words it.
type jsonOffsetError struct {
	offset int64
	err    error
}

func (e *jsonOffsetError) Error() string {
	return fmt.Sprintf("json: offset %d: %s", e.offset, e.err.Error())
}
func (e *jsonOffsetError) Unwrap() error { return e.err }

// peekSize is how much of a document the decoder looks at to decide
// whether it is JSON.
const peekSize = 4096

// objectDecoder reads the objects of one rendered template in turn, as
// Kubernetes' YAML-or-JSON stream decoder does (which Helm uses): a
// stream whose first non-blank byte is "{" is read as concatenated JSON
// values, falling back to YAML from the last good object if that fails;
// anything else is read as YAML documents separated by "---" lines.
type objectDecoder struct {
	data     []byte
	consumed int // bytes fully decoded
	json     *json.Decoder
	yaml     *yamlDocuments
	count    int // objects decoded
}

func newObjectDecoder(content string) *objectDecoder {
	d := &objectDecoder{data: []byte(content)}
	head := d.data
	if len(head) > peekSize {
		head = head[:peekSize]
	}
	if bytes.HasPrefix(bytes.TrimLeftFunc(head, unicode.IsSpace), []byte("{")) {
		d.json = json.NewDecoder(bytes.NewReader(d.data))
	} else {
		d.yaml = newYAMLDocuments(d.data)
	}
	return d
}

// next decodes the next object into *into (nil for an empty document)
// and returns io.EOF after the last.
func (d *objectDecoder) next(into **K8sYamlStruct) error {
	var first error
	if d.json != nil {
		err := d.json.Decode(into)
		if err == nil {
			d.count++
			d.consumed = int(d.json.InputOffset())
			return nil
		}
		if err == io.EOF {
			return err
		}
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			first = &jsonOffsetError{offset: syntax.Offset, err: syntax}
		} else {
			first = asHelmTypes(err)
		}
		if d.count > 1 {
			return asHelmTypes(err)
		}
		if start, ok := d.skipBlankLine(); ok {
			d.yaml = newYAMLDocuments(d.data[start:])
		}
		d.json = nil
	}
	if d.yaml != nil {
		err := d.yaml.decode(into)
		if err == nil {
			d.count++
			return nil
		}
		if err == io.EOF {
			return err
		}
		if first == nil {
			first = err
		}
	}
	if first != nil {
		return first
	}
	return errors.New("decoding failed as both JSON and YAML")
}

// skipBlankLine finds where YAML decoding resumes after JSON failed: past
// leading white space up to and including the first newline. It fails
// (and YAML is not tried) when fewer than four bytes are left to look at
// or the bytes are not valid UTF-8, as in the Kubernetes decoder.
func (d *objectDecoder) skipBlankLine() (int, bool) {
	i := d.consumed
	for {
		if len(d.data)-i < 4 {
			return 0, false
		}
		r, size := utf8.DecodeRune(d.data[i : i+4])
		if r == utf8.RuneError || size == 0 {
			return 0, false
		}
		if !unicode.IsSpace(r) {
			return i, true
		}
		i += size
		if r == '\n' {
			return i, true
		}
	}
}

// yamlDocuments splits a YAML stream into documents line by line, as the
// Kubernetes YAML reader does, and decodes each.
type yamlDocuments struct {
	lines [][]byte // each with its line ending replaced by "\n"
	next  int
}

func newYAMLDocuments(data []byte) *yamlDocuments {
	y := &yamlDocuments{}
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		var line []byte
		if i < 0 {
			line, data = data, nil
		} else {
			line, data = bytes.TrimSuffix(data[:i], []byte("\r")), data[i+1:]
		}
		y.lines = append(y.lines, append(line[:len(line):len(line)], '\n'))
	}
	return y
}

// document returns the next document's bytes, or io.EOF. A separator
// line is "---" optionally followed by a comment; anything else after
// the dashes is an error. A separator before any content is kept as part
// of the document.
func (y *yamlDocuments) document() ([]byte, error) {
	var buf bytes.Buffer
	for {
		if y.next >= len(y.lines) {
			if buf.Len() != 0 {
				return buf.Bytes(), nil
			}
			return nil, io.EOF
		}
		line := y.lines[y.next]
		y.next++
		if bytes.HasPrefix(line, []byte("---")) {
			rest := strings.TrimSpace(string(line[3:]))
			if rest != "" && rest[0] != '#' {
				return nil, fmt.Errorf("invalid Yaml document separator: %s", rest)
			}
			if buf.Len() != 0 {
				return buf.Bytes(), nil
			}
		}
		buf.Write(line)
	}
}

// decode decodes the next document into *into.
func (y *yamlDocuments) decode(into **K8sYamlStruct) error {
	doc, err := y.document()
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(doc, into); err != nil {
		return asHelmTypes(err)
	}
	return nil
}
