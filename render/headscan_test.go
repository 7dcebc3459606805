package render

import (
	"strings"
	"testing"
)

// headDoc is a YAML document with whether the fast scanner must read it
// (fast) or hand it to the full decoder.
type headDoc struct {
	name string
	doc  string
	fast bool
}

// headDocs are documents, ordinary and odd, on which SortManifests must
// agree with Helm. They also seed the fuzz targets.
var headDocs = []headDoc{
	// Read by the scanner.
	{"empty", "", true},
	{"comment only", "# Source: c/templates/x.yaml\n# nothing here", true},
	{"typical", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels:\n    app: web\n  annotations:\n    checksum/config: abc123\nspec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.25\n          args:\n            - --port=8080\n          ports:\n            - containerPort: 80\n", true},
	{"quoted keys and values", "\"apiVersion\": \"v1\"\n'kind': 'Pod'\nmetadata:\n  \"name\": 'it''s'\n  annotations:\n    'helm.sh/hook': \"pre-install\"\n", true},
	{"comments everywhere", "# head\napiVersion: v1 # the version\nkind: Pod   # kind\nmetadata: # meta\n  # inside\n  name: p#not-a-comment\n    # deeper comment\n  annotations:\n  # less deep comment\n    a: b # c\n", true},
	{"indentless sequences", "kind: Role\nrules:\n- apiGroups:\n  - \"\"\n  resources:\n  - pods\n  verbs:\n  -\n  - get\nmetadata:\n  name: r\n", true},
	{"compact mappings", "kind: List\nitems:\n-   a: 1\n    b:\n    - x\n    c: 2\n- d: 3\n-\n  e: 4\n-\n  - nested\n", true},
	{"block scalars", "kind: ConfigMap\ndata:\n  a: |\n    line one\n      indented: \"x\"\n    # not a comment\n\n    last\n  b: >-\n    folded\n    text\n  c: |+\n\n  d: |-\n   \n    after blank\n  e: |  # comment\n    x\nmetadata:\n  name: cm\n", true},
	{"block scalar in sequence", "kind: Pod\nspec:\n  args:\n    - |\n      echo hi\n      echo \"there: #1\"\n    - plain\n  other:\n  - |\n   one-space content\n", true},
	{"block scalar ending at top level", "data:\n  script: |\n    #!/bin/sh\n    exit 0\nkind: ConfigMap\n", true},
	{"tabs inside block scalar", "kind: ConfigMap\ndata:\n  Makefile: |\n    all:\n    \tgo build\n", true},
	{"empty flow collections", "kind: Deployment\nmetadata:\n  name: d\n  annotations: {}\nspec:\n  affinity: {}\n  tolerations: []\n  list:\n  - {}\n  - []\n", true},
	{"null annotation value", "kind: Job\nmetadata:\n  name: j\n  annotations:\n    helm.sh/hook:\n    helm.sh/hook-weight:\n", true},
	{"null metadata", "kind: Job\nmetadata:\napiVersion: batch/v1\n", true},
	{"null annotations", "kind: Job\nmetadata:\n  annotations:\n  name: j\n", true},
	{"duplicate deep keys", "kind: X\nspec:\n  a: 1\n  a: 2\n  a:\n    b: c\n", true},
	{"colons and hashes in plain scalars", "kind: Pod\nmetadata:\n  name: a:b\n  annotations:\n    url: http://example.com/a#frag\n    image: registry:5000/app:1.0\n    note: it's \"fine\"\nspec:\n  x: -1\n  z: --flag\n", true},
	{"non-ASCII", "kind: Pod\nmetadata:\n  name: café\n  annotations:\n    描述: 日本語 – “quoted”\nspec:\n  émoji: 🚀\n", true},
	{"numbers and words deep", "kind: Pod\nspec:\n  a: 1\n  b: 1.5\n  c: yes\n  d: ~\n  e: 0x1F\n  f: 2001-12-14\n  g: 1e400\n  h: .5\n", true},
	{"trailing spaces", "kind: Pod   \nmetadata:   \n  name: p   \n  annotations:  \n    a: 'b'   \n", true},
	{"dotted keys", "kind: Secret\ndata:\n  .dockerconfigjson: e30=\n  ._x: y\n", true},
	{"double-quoted escapes deep", "kind: Pod\nspec:\n  a: \"tab\\there\\u00e9\\x41\\\"q\\\\\"\n", true},
	{"document of only a key", "kind:", true},
	{"explicit document start", "---\nkind: Pod\nmetadata:\n  name: p\n", true},
	{"explicit document start with comment", "---   # Source: x\n# only a comment", true},
	{"explicit document start only", "---", true},
	{"keys starting with digits", "kind: ConfigMap\nmetadata:\n  name: 3scale-operator\n  annotations:\n    0-key: 1-value\ndata:\n  00-base.conf: |\n    x\n  10-site.conf: y\n  -name: z\n", true},

	// Handed to the decoder, which must agree with Helm too.
	{"json", "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"p\", \"annotations\": {\"helm.sh/hook\": \"test\"}}}", false},
	{"flow mapping", "kind: Pod\nmetadata: {name: p, annotations: {a: b}}\n", false},
	{"flow sequences", "kind: Pod\nspec:\n  command: [\"sh\", \"-c\"]\n  args: [ a b, 'c''d', -x, http://h:80/p#f, 5, ~, yes ]\n  nested: [[], [a], {}, {k: v, 'q': \"w\"}, [[x]]]   # comment\n  - [a]\n", false},
	{"flow collections", "kind: Pod\nspec:\n  command: [\"sh\", \"-c\"]\n  args: [ a b, 'c''d', -x, http://h:80/p#f, 5, ~, yes ]\n  nested: [[], [a], {}, {k: v, 'q': \"w\"}, [[x]]]   # comment\n  list:\n  - [a]\n  - {a : b, \"c\" : d}\n", true},
	{"flow mapping with a single key", "kind: Pod\nspec: {a, b: c}\n", false},
	{"flow pair in a sequence", "kind: Pod\nspec: [a: b]\n", false},
	{"flow trailing comma", "kind: Pod\nspec: [a, b,]\n", false},
	{"flow empty entry", "kind: Pod\nspec: [a, , b]\n", false},
	{"flow multi-line", "kind: Pod\nspec: [a,\n  b]\n", false},
	{"flow colon before bracket", "kind: Pod\nspec: {a:}\n", false},
	{"flow question mark", "kind: Pod\nspec: [a?b]\n", false},
	{"flow json pair", "kind: Pod\nspec: {\"a\":\"b\"}\n", false},
	{"flow inf", "kind: Pod\nspec: [.inf]\n", false},
	{"flow null key", "kind: Pod\nspec: {~: a}\n", false},
	{"flow text after", "kind: Pod\nspec: [a] b\n", false},
	{"flow key", "kind: Pod\nspec:\n- [a]: b\n", false},
	{"anchors and aliases", "base: &b\n  x: 1\nother: *b\nkind: K\n", false},
	{"merge key", "a: &a\n  kind: Inner\nb:\n  <<: *a\nkind: K\n", false},
	{"tag", "kind: !!str 123\n", false},
	{"kind a number", "kind: 123\napiVersion: 1.0\n", false},
	{"kind yes", "kind: yes\n", false},
	{"kind null", "kind: null\n", false},
	{"kind tilde", "kind: ~\n", false},
	{"capitalised Kind", "Kind: Pod\n", false},
	{"upper-case KIND", "KIND: Pod\nkind: Svc\n", false},
	{"kind and Kind", "kind: A\nKind: B\n", false},
	{"duplicate kind", "kind: A\nkind: B\n", false},
	{"duplicate metadata", "metadata:\n  name: a\n  annotations:\n    x: y\nmetadata:\n  name: b\n", false},
	{"Kelvin sign", "\u212aind: Pod\n", false},
	{"long s", "metadata:\n  name: x\n  annotation\u017f: {}\n", false},
	{"list document", "- a\n- b\n", false},
	{"scalar document", "hello", false},
	{"number document", "5", false},
	{"bool document", "true", false},
	{"kind a mapping", "kind:\n  nested: map\n", false},
	{"kind on the next line", "kind:\n  Pod\n", false},
	{"metadata a list", "metadata: []\n", false},
	{"metadata a scalar", "metadata: x\n", false},
	{"name a list", "metadata:\n  name: [a]\n", false},
	{"annotation a list", "metadata:\n  annotations:\n    a:\n    - 1\n", false},
	{"annotation numbers", "metadata:\n  annotations:\n    a: 5\n    b: 1.50\n    c: 0x10\n    d: 1e3\n    e: true\n    f: yes\n    g: -7\n    h: 2001-01-01\n    i: .5\n    j: 12345678901234567890\n", false},
	{"annotation block scalar", "metadata:\n  annotations:\n    helm.sh/hook: |\n      pre-install\n", false},
	{"annotation escaped", "metadata:\n  annotations:\n    helm.sh/hook: \"pre-\\u0069nstall\"\n", false},
	{"inf deep", "kind: Pod\nspec:\n  a: .inf\n", false},
	{"nan deep", "kind: Pod\nspec:\n  a: -.Inf\n  b: .NaN\n", false},
	{"null key", "kind: Pod\nspec:\n  ~: x\n", false},
	{"bool key", "kind: Pod\nspec:\n  yes: x\n  on: y\n", false},
	{"int key", "kind: Pod\nspec:\n  80: http\n", false},
	{"timestamp key", "kind: Pod\nspec:\n  2001-01-01: x\n", false},
	{"hex-like key", "kind: Pod\nspec:\n  0x1f: x\n", false},
	{"name a float", "metadata:\n  name: 1e3\n", false},
	{"name negative", "metadata:\n  name: -5\n", false},
	{"name hex-like", "metadata:\n  name: 3d\n", false},
	{"document start and text", "--- kind: Pod\n", false},
	{"four dashes", "----\nkind: Pod\n", false},
	{"document start block scalar", "--- |\n  text\n", false},
	{"document end at the end", "kind: Pod\n...\n", false},
	{"tab after colon", "kind:\tPod\n", false},
	{"tab indentation", "kind: Pod\nmetadata:\n\tname: x\n", false},
	{"tab after value", "kind: Pod\t\nmetadata:\n  name: x\n", false},
	{"tab before block scalar content", "kind: ConfigMap\ndata:\n  a: |\n\tx\n", false},
	{"crlf", "kind: Pod\r\nmetadata:\r\n  name: x\r\n\r\n  annotations:\r\n    a: b # c\r\ndata:\r\n  a: |\r\n    b\r\n", true},
	{"lone carriage return", "kind: Pod\rmetadata:\n  name: x\n", false},
	{"carriage return in block scalar", "kind: Pod\ndata:\n  a: |\n    x\ry\n", false},
	{"control character", "kind: P\x01od\n", false},
	{"byte order mark", "\ufeffkind: Pod\n", false},
	{"next line character", "kind: Pod\u0085metadata: x\n", false},
	{"line separator", "kind: Pod\nspec:\n  a: b\u2028c\n", false},
	{"invalid UTF-8", "kind: Pod\nspec:\n  a: \xff\n", false},
	{"multi-line plain", "description: foo\n  bar\nkind: K\n", false},
	{"multi-line quoted", "a: \"foo\n  bar\"\nkind: K\n", false},
	{"bad indentation", "a:\n    b: 1\n  c: 2\nkind: K\n", false},
	{"mapping in a value", "kind: b: c\n", false},
	{"document end marker", "kind: A\n...\nkind: B\n", false},
	{"directive", "%YAML 1.1\n", false},
	{"long key", "kind: Pod\nspec:\n  " + strings.Repeat("k", 1100) + ": v\n", false},
	{"explicit block indentation", "kind: Pod\nspec:\n  a: |2\n     x\n", false},
	{"more-indented blank before block content", "kind: Pod\nspec:\n  a: |\n        \n    x\n", false},
	{"explicit key", "? kind\n: Pod\n", false},
	{"indented top level", "  kind: X\n  metadata:\n    name: y\n", false},
	{"sequence where a key is expected", "kind: Pod\nspec:\n  - a\n  b: c\n", false},
	{"bad escape", "kind: Pod\nspec:\n  a: \"\\/\"\n", false},
	{"surrogate escape", "kind: Pod\nspec:\n  a: \"\\ud800\"\n", false},
	{"unterminated quote", "kind: \"Pod\n", false},
	{"text after quote", "kind: \"Pod\" x\n", false},
	{"anchor on top", "&a kind: Pod\n", false},
	{"nested compact sequence", "kind: Pod\nspec:\n  - - a\n", false},
	{"key with space before colon", "kind : Pod\n", false},
	{"empty key", ": x\nkind: Pod\n", false},
	{"indicator start", "kind: Pod\nspec:\n  a: @x\n", false},
	{"dash value", "kind: -\n", false},
}

func TestSortManifestsMatchesHelmOnOddDocuments(t *testing.T) {
	t.Parallel()
	for _, tc := range headDocs {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, files := range []map[string]string{
				{"c/templates/x.yaml": tc.doc},
				{"c/templates/x.yaml": "kind: Before\n---\n" + tc.doc + "\n---\nkind: After\n", "c/templates/y.yaml": tc.doc},
			} {
				hooks, manifests, err := SortManifests(files, InstallOrder())
				hHooks, hManifests, hErr := helmSortManifests(files, InstallOrder())
				if d := diffSortResults(hooks, manifests, err, hHooks, hManifests, hErr); d != "" {
					t.Fatalf("differs from Helm: %s", d)
				}
			}
		})
	}
}

func TestScanManifestHead(t *testing.T) {
	t.Parallel()
	for _, tc := range headDocs {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := scanManifestHead(tc.doc)
			if ok != tc.fast {
				t.Fatalf("scanned = %v, want %v", ok, tc.fast)
			}
			if !ok {
				return
			}
			want, err := decodeManifestHead(tc.doc)
			if err != nil {
				t.Fatalf("scanned a document that does not decode: %v", err)
			}
			if d := diffScannedHead(got, want); d != "" {
				t.Fatal(d)
			}
		})
	}
}

// diffScannedHead compares two heads, nil maps and pointers included.
func diffScannedHead(got, want *SimpleHead) string {
	if got.Version != want.Version || got.Kind != want.Kind || (got.Metadata == nil) != (want.Metadata == nil) {
		return "scanned " + headString(got) + ", decoded " + headString(want)
	}
	if got.Metadata == nil {
		return ""
	}
	g, w := got.Metadata, want.Metadata
	if g.Name != w.Name || (g.Annotations == nil) != (w.Annotations == nil) || len(g.Annotations) != len(w.Annotations) {
		return "scanned " + headString(got) + ", decoded " + headString(want)
	}
	for k, v := range w.Annotations {
		if gv, ok := g.Annotations[k]; !ok || gv != v {
			return "scanned " + headString(got) + ", decoded " + headString(want)
		}
	}
	return ""
}

// headString renders a head for messages.
func headString(h *SimpleHead) string {
	s := "{" + h.Version + " " + h.Kind
	if h.Metadata != nil {
		s += " " + h.Metadata.Name
		if h.Metadata.Annotations != nil {
			s += " ann:"
			for k, v := range h.Metadata.Annotations {
				s += " " + k + "=" + v
			}
		}
	} else {
		s += " <nil metadata>"
	}
	return s + "}"
}
