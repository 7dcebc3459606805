package render

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/Masterminds/sprig/v3"
	helmchart "helm.sh/helm/v3/pkg/chart"
)

// engFuncNames lists every name a template might call: ours, sprig's (env
// and expandenv included), text/template's builtins and a few that exist
// in neither.
func engFuncNames() []string {
	names := map[string]bool{"mustToYaml": true, "mustFromYaml": true, "nosuchfunc": true}
	for name := range newFuncTable().funcs {
		names[name] = true
	}
	for name := range sprig.GenericFuncMap() {
		names[name] = true
	}
	for _, name := range strings.Fields(templateBuiltins) {
		names[name] = true
	}
	return slices.Sorted(maps.Keys(names))
}

// TestFuncsLikeHelm calls every function name with no argument, a string
// and seven numbers, through both engines: the same names must exist, and
// their signatures (in arity and types) and results must agree.
func TestFuncsLikeHelm(t *testing.T) {
	t.Parallel()
	calls := map[string]string{
		"defined": `{{ if false }}{{ %s }}{{ end }}`,
		"string":  `{{ %s "a" }}`,
		"numbers": `{{ %s 1 2 3 4 5 6 7 }}`,
		"none":    `{{ %s }}`,
	}
	skip := map[string]bool{
		"none/now": true, // prints the monotonic clock
	}
	for _, name := range engFuncNames() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, call := range slices.Sorted(maps.Keys(calls)) {
				if skip[call+"/"+name] {
					continue
				}
				tpl := fmt.Sprintf(calls[call], name)
				p, err := engProcessPair(engHelmChart("f", map[string]string{"templates/t.yaml": tpl}), nil)
				if err != nil {
					t.Fatal(err)
				}
				want, wantErr := p.renderHelm(engOptions{})
				got, gotErr := p.renderOurs(Engine{})
				engCompare(t, want, wantErr, got, gotErr, true)
			}
		})
	}
}

// TestFuncOutputsLikeHelm renders a broad set of calls, the encoders'
// edge cases especially, through both engines.
func TestFuncOutputsLikeHelm(t *testing.T) {
	t.Parallel()
	values := `
str: "hello world"
multi: "line1\nline2\n"
num: 42
float: 3.25
big: 12345678901234
neg: -7
bool: true
nul: ~
list: [3, "b", {k: v}, [1, 2]]
map: {z: 1, a: {nested: [x, y]}, "needs quote": "yes: no", html: "<a&b>"}
empty: {}
emptylist: []
version: 1.2.3-beta.1
`
	files := map[string]string{
		"templates/encoders.yaml": `
toYaml: {{ toYaml .Values.map }}
toYamlList: {{ toYaml .Values.list }}
toYamlScalars: {{ toYaml .Values.str }} {{ toYaml .Values.num }} {{ toYaml .Values.nul }} {{ toYaml .Values.empty }} {{ toYaml .Values.emptylist }} {{ toYaml .Values.multi }}
toYamlPretty: {{ toYamlPretty .Values.map }}
toYamlPrettyList: {{ toYamlPretty .Values.list }} {{ toYamlPretty .Values.multi }}
toJson: {{ toJson .Values.map }} {{ toJson .Values.list }} {{ toJson .Values.big }} {{ toJson .Values.float }} {{ toJson (dict "f" (list 1 2)) }}
toToml: {{ toToml .Values.map }}
toTomlBad: {{ toToml .Values.str }}|{{ toToml .Values.list }}
fromYaml: {{ fromYaml "a: 1\nb: [x]\nc: {d: e}" }} {{ (fromYaml "a: 1").a | kindOf }}
fromYamlBad: {{ fromYaml "- a\n- b" }} {{ fromYaml "a: [" }} {{ fromYaml "" }} {{ fromYaml "~" }}
fromYamlArray: {{ fromYamlArray "- 1\n- a\n- {k: v}" }} {{ fromYamlArray "a: 1" }} {{ fromYamlArray "" }}
fromJson: {{ fromJson "{\"a\": 1, \"b\": [true, null]}" }} {{ fromJson "[1]" }} {{ fromJson "{" }} {{ (fromJson "{\"n\": 1}").n | kindOf }}
fromJsonArray: {{ fromJsonArray "[1, \"a\", {}]" }} {{ fromJsonArray "{}" }} {{ fromJsonArray "" }}
fromToml: {{ fromToml "a = 1\n[t]\nb = \"c\"\nd = 2024-01-02T03:04:05Z" }} {{ fromToml "a = " }} {{ (fromToml "n = 1").n | kindOf }}
roundtrip: {{ .Values | toYaml | fromYaml | toJson }}
chart: {{ toYaml .Chart.Maintainers }} {{ toToml (dict "a" (list 1 2)) }}
`,
		"templates/sprig.yaml": `
strings: {{ .Values.str | upper | title | quote }} {{ trunc 5 .Values.str }} {{ abbrev 8 .Values.str }} {{ .Values.str | replace " " "-" | squote }} {{ nospace .Values.str }} {{ wrap 5 .Values.str }} {{ indent 2 .Values.multi }} {{ nindent 4 .Values.multi }} {{ repeat 3 "ab" }} {{ substr 1 4 .Values.str }} {{ trimSuffix "d" .Values.str }} {{ camelcase "foo_bar" }} {{ snakecase "FooBar" }} {{ kebabcase "FooBar" }} {{ swapcase "aB" }} {{ initials "Foo Bar" }} {{ plural "one" "many" 2 }} {{ contains "wor" .Values.str }} {{ hasPrefix "he" .Values.str }} {{ cat "a" 1 .Values.nul "b" }} {{ .Values.str | b64enc }} {{ "aGVsbG8=" | b64dec }} {{ .Values.str | b32enc }} {{ sha256sum .Values.str }} {{ sha1sum "x" }} {{ adler32sum "x" }} {{ quote .Values.num .Values.nul }} {{ toString .Values.float }} {{ toStrings .Values.list }} {{ printf "%v %T" .Values.map .Values.num }}
lists: {{ list 1 2 3 | first }} {{ list 1 2 3 | rest }} {{ last .Values.list }} {{ initial .Values.list }} {{ append .Values.emptylist 1 }} {{ prepend (list 2) 1 }} {{ concat (list 1) (list 2 3) }} {{ reverse (list 1 2 3) }} {{ uniq (list 1 1 2) }} {{ without (list 1 2 3) 2 }} {{ has 2 (list 1 2) }} {{ compact (list 0 1 "" "a") }} {{ slice (list 1 2 3 4) 1 3 }} {{ chunk 2 (list 1 2 3) }} {{ sortAlpha (list "b" "a" "C") }} {{ until 3 }} {{ untilStep 0 10 3 }} {{ seq 1 3 }} {{ join "," (list 1 "a" 2.5) }} {{ splitList "," "a,b" }} {{ split "," "a,b" }} {{ splitn "," 2 "a,b,c" }} {{ len .Values.list }}
dicts: {{ dict "b" 1 "a" 2 }} {{ get .Values.map "z" }} {{ hasKey .Values.map "a" }} {{ keys .Values.map | sortAlpha }} {{ values (dict "a" 1) }} {{ pluck "a" (dict "a" 1) (dict "a" 2) }} {{ pick .Values.map "z" }} {{ omit .Values.map "a" "z" }} {{ merge (dict "a" 1) (dict "a" 2 "b" 3) }} {{ mergeOverwrite (dict "a" 1) (dict "a" 2) }} {{ deepCopy .Values.map | toJson }} {{ dig "a" "nested" "none" .Values.map }} {{ set (dict) "k" "v" }} {{ unset (dict "k" 1) "k" }} {{ dict (dict "x" 1) 2 }}
math: {{ add 1 2 }} {{ sub 5 3 }} {{ mul 2 3 }} {{ div 7 2 }} {{ mod 7 3 }} {{ max 1 5 3 }} {{ min 4 2 }} {{ add1 .Values.num }} {{ floor 2.5 }} {{ ceil 2.1 }} {{ round 2.555 2 }} {{ addf 1.5 2 }} {{ mulf 1.5 2 }} {{ divf 1 3 }} {{ int64 "12" }} {{ float64 "1.5" }} {{ atoi "12" }} {{ int .Values.float }} {{ .Values.big }} {{ .Values.big | int64 }}
types: {{ kindOf .Values.map }} {{ kindOf .Values.list }} {{ typeOf .Values.num }} {{ typeOf .Values.list }} {{ kindIs "map" .Values.map }} {{ typeIs "float64" .Values.num }} {{ empty .Values.empty }} {{ empty .Values.nul }} {{ default "d" .Values.nul }} {{ default "d" .Values.str }} {{ coalesce .Values.nul "" "c" }} {{ ternary "y" "n" .Values.bool }} {{ deepEqual (list 1) (list 1) }} {{ toDecimal "0777" }} {{ all 1 "a" }} {{ any 0 "" 1 }}
semver: {{ semver .Values.version }} {{ (semver .Values.version).Major }} {{ semverCompare ">=1.2.0-0" .Values.version }} {{ semverCompare "^2" "1.0.0" }}
regex: {{ regexMatch "^h" .Values.str }} {{ regexFindAll "o" .Values.str -1 }} {{ regexReplaceAll "o(.)" .Values.str "${1}0" }} {{ regexSplit " " .Values.str -1 }} {{ regexQuoteMeta "a.b" }}
paths: {{ base "a/b.yaml" }} {{ dir "a/b/c" }} {{ ext "x.tar.gz" }} {{ clean "a//b/../c" }} {{ isAbs "/a" }} {{ osBase "a/b" }}
urls: {{ urlParse "https://u:p@example.com:8080/p?q=1#f" }} {{ urlJoin (dict "scheme" "http" "host" "h" "path" "/p") }} {{ urlquery "a b&c" }}
dates: {{ date "2006-01-02" 0 }} {{ dateInZone "2006-01-02 15:04" 86400 "UTC" }} {{ toDate "2006-01-02" "2024-02-03" | date "Jan 2" }} {{ unixEpoch (toDate "2006-01-02" "2024-02-03") }} {{ duration 3661 }} {{ durationRound "3h10m" }} {{ dateModify "+1h" (toDate "2006-01-02" "2024-02-03") | date "15:04" }}
crypto: {{ derivePassword 1 "long" "password" "user" "example.com" }} {{ bcrypt "x" | len }} {{ encryptAES "k" "secret" | decryptAES "k" }} {{ sha512sum "x" }}
flow: {{ with .Values.nul }}has{{ else }}none{{ end }} {{ range $k, $v := .Values.map }}{{ $k }}={{ kindOf $v }};{{ end }} {{ range $i, $e := .Values.list }}{{ $i }}{{ end }} {{ if and .Values.bool (not .Values.nul) }}and{{ end }} {{ eq .Values.num 42.0 }} {{ lt 1 2 }}
`,
		"templates/random.yaml": `
rand: {{ randAlphaNum 10 }} {{ randAlpha 5 }} {{ randNumeric 4 }} {{ randAscii 6 | b64enc }} {{ uuidv4 }} {{ randInt 10 11 }} {{ shuffle "aaaa" }} {{ randBytes 12 }}
htpasswd: {{ htpasswd "user" "pass" }}
key: {{ genPrivateKey "ecdsa" | b64enc }}
ca: {{ $ca := genCA "ca" 365 }}{{ $ca.Cert | b64enc }}
signed: {{ $c := genSignedCert "svc" (list "10.0.0.1") (list "svc.local") 365 $ca }}{{ $c.Cert | len | int | lt 100 }} {{ $c.Key | b64enc }}
self: {{ $s := genSelfSignedCert "self" nil nil 30 }}{{ $s.Cert }}
`,
	}
	engRunCases(t, []engCase{
		{
			name: "functions",
			chart: func() *helmchart.Chart {
				c := engHelmChart("fn", files)
				c.Metadata.Maintainers = []*helmchart.Maintainer{{Name: "a", Email: "a@example.com"}}
				return c
			},
			values: values,
			modes:  []engOptions{{}},
			random: true,
		},
	})
}

// TestFuncTable checks the table's shape: sprig's functions less env and
// expandenv, Helm's additions, and parser names for the builtins.
func TestFuncTable(t *testing.T) {
	t.Parallel()
	ft := newFuncTable()
	for _, name := range []string{"env", "expandenv"} {
		if _, ok := ft.funcs[name]; ok {
			t.Errorf("%s must not be available", name)
		}
	}
	for _, name := range []string{"toYaml", "toYamlPretty", "fromYaml", "fromYamlArray", "toJson", "fromJson", "fromJsonArray", "toToml", "fromToml", "include", "tpl", "required", "fail", "lookup", "getHostByName", "randAlphaNum", "b64enc"} {
		if _, ok := ft.funcs[name]; !ok {
			t.Errorf("%s missing", name)
		}
	}
	if want := len(sprig.GenericFuncMap()) - 2 + 11; len(ft.funcs) != want {
		t.Errorf("got %d functions, want %d", len(ft.funcs), want)
	}
	for _, name := range []string{"and", "index", "printf", "eq", "slice", "urlquery"} {
		if ft.builtins[name] == nil {
			t.Errorf("parser does not know builtin %s", name)
		}
	}
	if ft.hostByName == nil {
		t.Error("sprig's getHostByName not kept")
	}
}
