package render

import "strings"

// scanManifestHead reads the head of a YAML document in one pass over its
// lines, without building the document. It returns ok only when it has
// proved two things: that go.yaml.in/yaml/v2 (which Helm's decoding uses)
// parses the document without error, and that decoding it into a
// SimpleHead through JSON, as Helm does, gives the head returned.
//
// It proves them only for a subset of YAML, which covers nearly all
// rendered manifests: a top-level block mapping at column 0 made of block
// mappings and sequences (indentless ones included), single-line plain and
// quoted scalars, literal and folded block scalars, single-line flow
// collections, comments, blank lines, "\r\n" line ends and a leading "---".
// On anything else (tabs outside block scalars, other carriage returns,
// control characters, anchors, aliases, tags, directives, "...", multi-line
// plain, quoted or flow nodes, explicit keys, merge keys, keys that are not
// strings, .inf and .nan, head fields that YAML reads as numbers, booleans
// or null, duplicate head keys, head keys that differ from Helm's only in
// case…) it gives up and returns false, and the caller decodes the
// document as Helm does.
func scanManifestHead(doc string) (*SimpleHead, bool) {
	var frames [16]headFrame
	s := headScanner{head: new(SimpleHead), frames: frames[:0]}
	rest := doc
	if strings.HasPrefix(doc, "---") {
		// An explicit document start, left when two separators meet.
		line, next, _ := strings.Cut(doc, "\n")
		line = strings.TrimSuffix(line, "\r")
		if !isLineEnd(line[3:]) || !validYAMLChars(line, false) {
			return nil, false
		}
		rest = next
	}
	for {
		line, next, more := strings.Cut(rest, "\n")
		// YAML reads "\r\n" as one line break; a "\r" anywhere else makes
		// validYAMLChars give up.
		line = strings.TrimSuffix(line, "\r")
		if !s.line(line) {
			return nil, false
		}
		if !more {
			break
		}
		rest = next
	}
	if s.pending && !s.setNull(s.pendRole, s.pendKey) {
		return nil, false
	}
	return s.head, true
}

// headRole says what a node means for the head: the top-level mapping, the
// metadata or annotations mapping, one of the string fields, or nothing
// (a node that only has to be valid).
type headRole uint8

const (
	roleOther headRole = iota
	roleTop
	roleMetadata
	roleAnnotations
	roleVersion
	roleKind
	roleName
	roleAnnotation
)

// Bits of headScanner.seen, one per head key, to give up on duplicates.
const (
	seenVersion = 1 << iota
	seenKind
	seenMetadata
	seenName
	seenAnnotations
)

// maxScanDepth bounds the nesting the scanner follows.
const maxScanDepth = 200

// maxSimpleKey bounds the length of a key, in bytes: YAML reads a key
// longer than 1024 characters differently.
const maxSimpleKey = 1000

// headFrame is an open block collection.
type headFrame struct {
	col        int  // column of its keys or dashes
	seq        bool // a sequence rather than a mapping
	indentless bool // a sequence at its parent key's column
	role       headRole
}

// headScanner is the state of scanManifestHead.
type headScanner struct {
	head   *SimpleHead
	frames []headFrame
	seen   uint8

	// A key or dash whose value has not started on its own line: the next
	// content line decides whether it is a nested collection or null.
	pending     bool
	pendCol     int  // column of the key or dash
	pendFromKey bool // a key, whose value may be an indentless sequence
	pendRole    headRole
	pendKey     string // the annotation key, for roleAnnotation

	// A literal or folded block scalar being skipped.
	inBlock     bool
	blockParent int // indentation of the collection that holds it
	blockIndent int // its content indentation, 0 until known
	blockMax    int // longest run of spaces on blank lines before content
}

// line consumes one line, without its newline. It returns false to give up.
func (s *headScanner) line(line string) bool {
	sp := 0
	for sp < len(line) && line[sp] == ' ' {
		sp++
	}
	rest := line[sp:]
	if s.inBlock {
		if done, ok := s.blockLine(sp, rest); done || !ok {
			return ok
		}
	}
	if rest == "" {
		return true
	}
	if !validYAMLChars(rest, false) {
		return false
	}
	if rest[0] == '#' {
		return true
	}
	if sp == 0 && (strings.HasPrefix(rest, "---") || strings.HasPrefix(rest, "...")) {
		return false
	}
	dash := isDashEntry(rest)

	if s.pending {
		s.pending = false
		if sp > s.pendCol {
			return s.openChild(sp, rest, dash, false)
		}
		if sp == s.pendCol && s.pendFromKey && dash {
			return s.openChild(sp, rest, dash, true)
		}
		if !s.setNull(s.pendRole, s.pendKey) {
			return false
		}
	}

	for n := len(s.frames); n > 0; n = len(s.frames) {
		top := s.frames[n-1]
		if top.col > sp || (top.col == sp && top.indentless && !dash) {
			s.frames = s.frames[:n-1]
			continue
		}
		break
	}
	if len(s.frames) == 0 {
		// Only the first content line gets here: the top-level mapping
		// starts at column 0 and is never closed.
		if sp != 0 || dash {
			return false
		}
		s.frames = append(s.frames, headFrame{role: roleTop})
	}
	top := s.frames[len(s.frames)-1]
	if top.col != sp {
		return false
	}
	if top.seq {
		if !dash {
			return false
		}
		return s.seqEntry(sp, rest)
	}
	if dash {
		return false
	}
	return s.mapEntry(sp, rest, top.role)
}

// blockLine consumes a line while a block scalar is open. done is true when
// the line belongs to the scalar; false when it ends the scalar and must be
// read as structure.
func (s *headScanner) blockLine(sp int, rest string) (done, ok bool) {
	if s.blockIndent == 0 {
		// Leading lines: the first non-blank one sets the indentation.
		if rest == "" {
			s.blockMax = max(s.blockMax, sp)
			return true, true
		}
		if rest[0] == '\t' {
			return true, false
		}
		indent := max(s.blockMax, sp, s.blockParent+1, 1)
		if sp == indent {
			s.blockIndent = indent
			return true, validYAMLChars(rest, true)
		}
		if s.blockMax > sp {
			return true, false
		}
		s.inBlock = false
		return false, true
	}
	if sp >= s.blockIndent {
		return true, validYAMLChars(rest, true)
	}
	if rest == "" {
		return true, true
	}
	if rest[0] == '\t' {
		return true, false
	}
	s.inBlock = false
	return false, true
}

// openChild starts the collection that is the pending key's or dash's
// value, whose first line is at column col.
func (s *headScanner) openChild(col int, rest string, dash, indentless bool) bool {
	if len(s.frames) >= maxScanDepth {
		return false
	}
	role := s.pendRole
	if dash {
		if role != roleOther {
			return false
		}
		s.frames = append(s.frames, headFrame{col: col, seq: true, indentless: indentless})
		return s.seqEntry(col, rest)
	}
	if !s.setMapping(role) {
		return false
	}
	s.frames = append(s.frames, headFrame{col: col, role: role})
	return s.mapEntry(col, rest, role)
}

// seqEntry consumes a line "- …" of a sequence whose dashes are at col.
func (s *headScanner) seqEntry(col int, rest string) bool {
	i := 1
	for i < len(rest) && rest[i] == ' ' {
		i++
	}
	content := rest[i:]
	if content == "" || content[0] == '#' {
		s.setPending(col, false, roleOther, "")
		return true
	}
	if isDashEntry(content) {
		return false
	}
	key, after, st := scanKey(content)
	switch st {
	case keyBad:
		return false
	case keyFound:
		// A mapping that starts on the dash's line.
		if len(s.frames) >= maxScanDepth {
			return false
		}
		itemCol := col + i
		s.frames = append(s.frames, headFrame{col: itemCol})
		return s.value(itemCol, after, roleOther, key, true)
	}
	return s.value(col, content, roleOther, "", false)
}

// mapEntry consumes a line "key: …" of a mapping whose keys are at col.
func (s *headScanner) mapEntry(col int, rest string, role headRole) bool {
	key, after, st := scanKey(rest)
	if st != keyFound {
		return false
	}
	child, ok := s.childRole(role, key)
	if !ok {
		return false
	}
	return s.value(col, after, child, key, true)
}

// headField is a key of the top-level or metadata mapping that Helm's
// SimpleHead decodes.
type headField struct {
	name string
	role headRole
	bit  uint8
}

// headFieldsOf returns the head keys of a mapping of role parent.
func headFieldsOf(parent headRole) []headField {
	switch parent {
	case roleTop:
		return []headField{{"apiVersion", roleVersion, seenVersion}, {"kind", roleKind, seenKind}, {"metadata", roleMetadata, seenMetadata}}
	case roleMetadata:
		return []headField{{"name", roleName, seenName}, {"annotations", roleAnnotations, seenAnnotations}}
	}
	return nil
}

// childRole returns the role of the value of key in a mapping of role
// parent, and false for keys the scanner does not handle there.
func (s *headScanner) childRole(parent headRole, key string) (headRole, bool) {
	switch parent {
	case roleAnnotations:
		return roleAnnotation, true
	case roleTop, roleMetadata:
	default:
		return roleOther, true
	}
	for _, f := range headFieldsOf(parent) {
		if key == f.name {
			if s.seen&f.bit != 0 {
				return 0, false
			}
			s.seen |= f.bit
			return f.role, true
		}
		// JSON matches field names without regard to case.
		if strings.EqualFold(key, f.name) {
			return 0, false
		}
	}
	if !isASCII(key) {
		// Unicode case folding can match too (the Kelvin sign folds to k).
		return 0, false
	}
	return roleOther, true
}

// value consumes the value after a key's colon or a dash: text is the rest
// of the line. col is the indentation of the collection holding the key or
// dash; fromKey tells which.
func (s *headScanner) value(col int, text string, role headRole, key string, fromKey bool) bool {
	t := strings.TrimLeft(text, " ")
	if t == "" || t[0] == '#' {
		s.setPending(col, fromKey, role, key)
		return true
	}
	switch t[0] {
	case '|', '>':
		i := 1
		if i < len(t) && (t[i] == '+' || t[i] == '-') {
			i++
		}
		if role != roleOther || !isLineEnd(t[i:]) {
			return false
		}
		s.inBlock = true
		s.blockParent = col
		s.blockIndent = 0
		s.blockMax = 0
		return true
	case '"':
		str, n, escaped := scanDoubleQuoted(t)
		if n < 0 || !isLineEnd(t[n:]) || (escaped && role != roleOther) {
			return false
		}
		return s.setString(role, key, str)
	case '\'':
		str, n := scanSingleQuoted(t)
		if n < 0 || !isLineEnd(t[n:]) {
			return false
		}
		return s.setString(role, key, str)
	case '{', '[':
		if len(t) >= 2 && (t[:2] == "{}" || t[:2] == "[]") && isLineEnd(t[2:]) {
			if t[0] == '[' {
				return role == roleOther
			}
			return s.setMapping(role)
		}
		if role != roleOther {
			return false
		}
		n := scanFlow(t, 0)
		return n > 0 && isLineEnd(t[n:])
	}
	str, ok := plainValue(t)
	if !ok || isInfOrNaN(str) {
		return false
	}
	if role == roleOther {
		return true
	}
	if !plainIsString(str) {
		return false
	}
	return s.setString(role, key, str)
}

// setPending records a key or dash whose value starts on a later line.
func (s *headScanner) setPending(col int, fromKey bool, role headRole, key string) {
	s.pending = true
	s.pendCol = col
	s.pendFromKey = fromKey
	s.pendRole = role
	s.pendKey = key
}

// setString stores a string value for role.
func (s *headScanner) setString(role headRole, key, str string) bool {
	switch role {
	case roleOther:
	case roleVersion:
		s.head.Version = str
	case roleKind:
		s.head.Kind = str
	case roleName:
		s.head.Metadata.Name = str
	case roleAnnotation:
		s.head.Metadata.Annotations[key] = str
	default:
		return false
	}
	return true
}

// setMapping records that the value for role is a mapping.
func (s *headScanner) setMapping(role headRole) bool {
	switch role {
	case roleOther:
	case roleMetadata:
		s.head.Metadata = new(HeadMetadata)
	case roleAnnotations:
		s.head.Metadata.Annotations = map[string]string{}
	default:
		return false
	}
	return true
}

// setNull records an empty value for role. JSON null leaves a field as it
// is, which is its zero value since duplicate head keys are not handled;
// in a map of strings it stores "".
func (s *headScanner) setNull(role headRole, key string) bool {
	if role == roleAnnotation {
		s.head.Metadata.Annotations[key] = ""
	}
	return true
}
