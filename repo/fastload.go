package repo

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	yaml "sigs.k8s.io/yaml/goyaml.v3"

	"pkg.dev/pkg/chart"
)

// The fast decoder walks the YAML node tree and fills the index directly.
// It must produce exactly what Helm's YAML→JSON→struct path produces, so
// it declines (ok=false) whenever a node could decode differently there:
// anchors and aliases, merge keys, keys matching a field only
// case-insensitively, plain scalars that YAML 1.1 reads as booleans or
// numbers, numbers not in canonical form where text is expected, fields of
// unexpected kinds, unparsable timestamps, and the rarely used free-form
// fields (serverInfo, import-values). The caller then decodes the
// document the slow way.

// nodeDecoder holds the strings decoded so far: an index repeats the same
// short values (apiVersion, type, maintainers, dependency repositories,
// annotation keys) thousands of times, and keeping one copy of each makes
// the loaded index smaller than Helm's.
type nodeDecoder struct {
	seen map[string]string
}

// intern returns the kept copy of a short string.
func (d nodeDecoder) intern(s string) string {
	if len(s) > 64 {
		return s
	}
	if k, ok := d.seen[s]; ok {
		return k
	}
	d.seen[s] = s
	return s
}

// decodeIndexDoc decodes one document with the fast decoder.
func decodeIndexDoc(data []byte) (*IndexFile, bool) {
	if hasTagIndicator(data) {
		return nil, false
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, false
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, false
	}
	d := nodeDecoder{seen: map[string]string{}}
	return d.index(doc.Content[0])
}

func (d nodeDecoder) index(n *yaml.Node) (*IndexFile, bool) {
	if !plainNode(n) || n.Kind != yaml.MappingNode {
		return nil, false
	}
	i := &IndexFile{}
	return i, d.fields(n, indexKeys, func(key string, v *yaml.Node) bool {
		var ok bool
		switch key {
		case "apiVersion":
			i.APIVersion, ok = d.str(v)
		case "generated":
			i.Generated, ok = d.time(v)
		case "entries":
			i.Entries, ok = d.entries(v)
		case "publicKeys":
			i.PublicKeys, ok = d.strs(v)
		case "annotations":
			i.Annotations, ok = d.strMap(v)
		}
		return ok
	})
}

var (
	indexKeys      = []string{"apiVersion", "generated", "entries", "publicKeys", "annotations", "serverInfo"}
	versionKeys    = []string{"name", "home", "sources", "version", "description", "keywords", "maintainers", "icon", "apiVersion", "condition", "tags", "appVersion", "deprecated", "annotations", "kubeVersion", "dependencies", "type", "urls", "created", "removed", "digest", "checksum", "engine", "tillerVersion", "url"}
	maintainerKeys = []string{"name", "email", "url"}
	dependencyKeys = []string{"name", "version", "repository", "condition", "tags", "enabled", "import-values", "alias"}
)

// fields calls set for each key of the mapping n that is one of known,
// skips unknown keys and declines keys that match a known one only
// case-insensitively (JSON would use them) and duplicate keys.
func (d nodeDecoder) fields(n *yaml.Node, known []string, set func(string, *yaml.Node) bool) bool {
	c := n.Content
	for k := 0; k+1 < len(c); k += 2 {
		key, ok := d.key(c[k])
		if !ok {
			return false
		}
		exact, folded := false, false
		for _, kk := range known {
			if kk == key {
				exact = true
				break
			}
			if strings.EqualFold(kk, key) {
				folded = true
			}
		}
		switch {
		case exact:
			if !set(key, c[k+1]) {
				return false
			}
		case folded:
			return false
		default:
			// Ignored, but Helm's decoder converts it all the same and
			// fails on some shapes.
			if !convertible(c[k+1]) {
				return false
			}
		}
	}
	return true
}

func (d nodeDecoder) entries(n *yaml.Node) (map[string]ChartVersions, bool) {
	if isNull(n) {
		return nil, true
	}
	if !plainNode(n) || n.Kind != yaml.MappingNode {
		return nil, false
	}
	m := make(map[string]ChartVersions, len(n.Content)/2)
	c := n.Content
	for k := 0; k+1 < len(c); k += 2 {
		name, ok := d.key(c[k])
		if !ok {
			return nil, false
		}
		v := c[k+1]
		if isNull(v) {
			m[name] = nil
			continue
		}
		if !plainNode(v) || v.Kind != yaml.SequenceNode {
			return nil, false
		}
		vs := make(ChartVersions, len(v.Content))
		for j, e := range v.Content {
			if isNull(e) {
				continue
			}
			cv, ok := d.chartVersion(e)
			if !ok {
				return nil, false
			}
			vs[j] = cv
		}
		m[name] = vs
	}
	return m, true
}

func (d nodeDecoder) chartVersion(n *yaml.Node) (*ChartVersion, bool) {
	if !plainNode(n) || n.Kind != yaml.MappingNode {
		return nil, false
	}
	md := &chart.Metadata{}
	cv := &ChartVersion{Metadata: md}
	ok := d.fields(n, versionKeys, func(key string, v *yaml.Node) bool {
		var ok bool
		switch key {
		case "name":
			md.Name, ok = d.metaStr(v)
		case "home":
			md.Home, ok = d.metaStr(v)
		case "sources":
			md.Sources, ok = d.strsWith(v, d.metaStr)
		case "version":
			md.Version, ok = d.metaStr(v)
		case "description":
			md.Description, ok = d.metaStr(v)
		case "keywords":
			md.Keywords, ok = d.strsWith(v, d.metaStr)
		case "maintainers":
			md.Maintainers, ok = d.maintainers(v)
		case "icon":
			md.Icon, ok = d.metaStr(v)
		case "apiVersion":
			md.APIVersion, ok = d.metaStr(v)
		case "condition":
			md.Condition, ok = d.metaStr(v)
		case "tags":
			md.Tags, ok = d.metaStr(v)
		case "appVersion":
			md.AppVersion, ok = d.metaStr(v)
		case "deprecated":
			md.Deprecated, ok = d.bool(v)
		case "annotations":
			md.Annotations, ok = d.strMapWith(v, d.metaStr)
		case "kubeVersion":
			md.KubeVersion, ok = d.metaStr(v)
		case "dependencies":
			md.Dependencies, ok = d.dependencies(v)
		case "type":
			md.Type, ok = d.metaStr(v)
		case "urls":
			cv.URLs, ok = d.strs(v)
		case "created":
			cv.Created, ok = d.time(v)
		case "removed":
			cv.Removed, ok = d.bool(v)
		case "digest":
			cv.Digest, ok = d.str(v)
		case "checksum":
			cv.ChecksumDeprecated, ok = d.str(v)
		case "engine":
			cv.EngineDeprecated, ok = d.str(v)
		case "tillerVersion":
			cv.TillerVersionDeprecated, ok = d.str(v)
		case "url":
			cv.URLDeprecated, ok = d.str(v)
		}
		return ok
	})
	return cv, ok
}

// mappings decodes a sequence of mappings (nulls left nil), each with the
// known keys only, set by field; false sends the document to the general
// decoder.
func mappings[T any](d nodeDecoder, n *yaml.Node, keys []string, field func(t *T, key string, v *yaml.Node) bool) ([]*T, bool) {
	if isNull(n) {
		return nil, true
	}
	if !plainNode(n) || n.Kind != yaml.SequenceNode {
		return nil, false
	}
	out := make([]*T, len(n.Content))
	for j, e := range n.Content {
		if isNull(e) {
			continue
		}
		if !plainNode(e) || e.Kind != yaml.MappingNode {
			return nil, false
		}
		t := new(T)
		if !d.fields(e, keys, func(key string, v *yaml.Node) bool { return field(t, key, v) }) {
			return nil, false
		}
		out[j] = t
	}
	return out, true
}

func (d nodeDecoder) maintainers(n *yaml.Node) ([]*chart.Maintainer, bool) {
	return mappings(d, n, maintainerKeys, func(m *chart.Maintainer, key string, v *yaml.Node) bool {
		var ok bool
		switch key {
		case "name":
			m.Name, ok = d.metaStr(v)
		case "email":
			m.Email, ok = d.metaStr(v)
		case "url":
			m.URL, ok = d.metaStr(v)
		}
		return ok
	})
}

func (d nodeDecoder) dependencies(n *yaml.Node) ([]*chart.Dependency, bool) {
	return mappings(d, n, dependencyKeys, func(dep *chart.Dependency, key string, v *yaml.Node) bool {
		var ok bool
		switch key {
		case "name":
			dep.Name, ok = d.metaStr(v)
		case "version":
			dep.Version, ok = d.metaStr(v)
		case "repository":
			dep.Repository, ok = d.metaStr(v)
		case "condition":
			dep.Condition, ok = d.metaStr(v)
		case "tags":
			dep.Tags, ok = d.strsWith(v, d.metaStr)
		case "enabled":
			dep.Enabled, ok = d.bool(v)
		case "alias":
			dep.Alias, ok = d.metaStr(v)
		case "import-values":
			ok = false // free-form: left to the general decoder
		}
		return ok
	})
}

func (d nodeDecoder) strs(n *yaml.Node) ([]string, bool) { return d.strsWith(n, d.str) }

func (d nodeDecoder) strsWith(n *yaml.Node, str func(*yaml.Node) (string, bool)) ([]string, bool) {
	if isNull(n) {
		return nil, true
	}
	if !plainNode(n) || n.Kind != yaml.SequenceNode {
		return nil, false
	}
	out := make([]string, len(n.Content))
	for j, e := range n.Content {
		s, ok := str(e)
		if !ok {
			return nil, false
		}
		out[j] = s
	}
	return out, true
}

func (d nodeDecoder) strMap(n *yaml.Node) (map[string]string, bool) { return d.strMapWith(n, d.str) }

func (d nodeDecoder) strMapWith(n *yaml.Node, str func(*yaml.Node) (string, bool)) (map[string]string, bool) {
	if isNull(n) {
		return nil, true
	}
	if !plainNode(n) || n.Kind != yaml.MappingNode {
		return nil, false
	}
	out := make(map[string]string, len(n.Content)/2)
	c := n.Content
	for k := 0; k+1 < len(c); k += 2 {
		key, ok := d.key(c[k])
		if !ok {
			return nil, false
		}
		v, ok := str(c[k+1])
		if !ok {
			return nil, false
		}
		out[key] = v
	}
	return out, true
}

func (d nodeDecoder) bool(n *yaml.Node) (bool, bool) {
	if isNull(n) {
		return false, true
	}
	if !plainNode(n) || n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		return false, false
	}
	switch n.Value {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

func (d nodeDecoder) time(n *yaml.Node) (time.Time, bool) {
	if isNull(n) {
		return time.Time{}, true
	}
	s, ok := d.str(n)
	if !ok {
		return time.Time{}, false
	}
	// encoding/json's time.Time accepts RFC 3339 with optional fractional
	// seconds.
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// key decodes a mapping key: null keys make Helm's decoder fail.
func (d nodeDecoder) key(n *yaml.Node) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", false
	}
	return d.str(n)
}

// metaStr decodes a string field of the chart metadata embedded in an
// index entry (and of its maintainers and dependencies). Helm's decoder
// does not turn numbers or booleans into text there (the embedded struct
// hides the field's type from its YAML to JSON conversion) and fails on
// them, so only strings and nulls are decoded here.
func (d nodeDecoder) metaStr(n *yaml.Node) (string, bool) {
	if !plainNode(n) || n.Kind != yaml.ScalarNode {
		return "", false
	}
	switch n.Tag {
	case "!!str", "!!timestamp":
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 && yaml11Special(n.Value) {
			return "", false
		}
		return d.intern(n.Value), true
	case "!!null":
		return "", true
	}
	return "", false
}

// str returns the text Helm's decoder would store in a string field for
// the scalar n, or false when that is not certain.
func (d nodeDecoder) str(n *yaml.Node) (string, bool) {
	if !plainNode(n) || n.Kind != yaml.ScalarNode {
		return "", false
	}
	switch n.Tag {
	case "!!str", "!!timestamp":
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 && yaml11Special(n.Value) {
			return "", false
		}
		return d.intern(n.Value), true
	case "!!null":
		return "", true
	case "!!int":
		v, err := strconv.ParseInt(n.Value, 10, 64)
		if err != nil || strconv.FormatInt(v, 10) != n.Value {
			return "", false
		}
		return n.Value, true
	case "!!float":
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil || strconv.FormatFloat(f, 'g', -1, 32) != n.Value {
			return "", false
		}
		return n.Value, true
	case "!!bool":
		if n.Value == "true" || n.Value == "false" {
			return n.Value, true
		}
	}
	return "", false
}

// convertible reports whether Helm's YAML to JSON conversion surely
// accepts the subtree n (a value this decoder ignores).
func convertible(n *yaml.Node) bool {
	if !plainNode(n) {
		return false
	}
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!str", "!!int", "!!float", "!!bool", "!!null", "!!timestamp":
			return true
		}
		return false
	case yaml.MappingNode:
		c := n.Content
		for k := 0; k+1 < len(c); k += 2 {
			key := c[k]
			if !plainNode(key) || key.Kind != yaml.ScalarNode {
				return false
			}
			switch key.Tag {
			case "!!str", "!!int", "!!bool":
			default:
				return false
			}
			if key.Tag == "!!str" && key.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 && yaml11Special(key.Value) {
				return false
			}
			if !convertible(c[k+1]) {
				return false
			}
		}
		return true
	case yaml.SequenceNode:
		for _, e := range n.Content {
			if !convertible(e) {
				return false
			}
		}
		return true
	}
	return false
}

// hasTagIndicator reports a "!" where a YAML tag may start (after white
// space or a flow indicator). The node tree does not keep every tag
// (a bare "!" is dropped), so documents that may have one are declined.
func hasTagIndicator(data []byte) bool {
	for i, b := range data {
		if b != '!' {
			continue
		}
		if i == 0 {
			return true
		}
		switch data[i-1] {
		case ' ', '\n', '\t', '\r', '[', '{', ',':
			return true
		}
	}
	return false
}

// plainNode reports a node without anchors, aliases or merge keys.
//
// Explicitly tagged nodes are declined too: YAML 1.1 and 1.2 resolve
// some tags differently.
func plainNode(n *yaml.Node) bool {
	return n.Kind != yaml.AliasNode && n.Anchor == "" && n.Style&yaml.TaggedStyle == 0 && !(n.Kind == yaml.ScalarNode && n.Tag == "!!merge")
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null" && plainNode(n)
}

// yaml11Number matches what YAML 1.1 (go-yaml v2, which Helm's decoder
// uses) may read as a number: anything made of digits, signs, dots,
// underscores, exponents and base prefixes.
var yaml11Number = regexp.MustCompile(`^[-+]?(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|[0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?)$`)

// yaml11Special reports a plain scalar that YAML 1.1 resolves to
// something other than the same string: booleans (y, yes, on…), nulls,
// infinities and numbers. It errs on the side of "special".
func yaml11Special(s string) bool {
	if s == "" {
		return true
	}
	switch strings.ToLower(s) {
	case "y", "yes", "n", "no", "on", "off", "true", "false", "~", "null",
		".inf", "-.inf", "+.inf", ".nan", "<<":
		return true
	}
	c := s[0]
	if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' {
		return yaml11Number.MatchString(s) && strings.ContainsAny(s, "0123456789")
	}
	return false
}
