package render

import (
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"strings"
	"testing"

	helmstrvals "helm.sh/helm/v3/pkg/strvals"
)

// setFS is the fake file system --set-file reads in these tests.
var setFS = map[string]string{
	"a.txt":     "alpha\n",
	"b.txt":     "bravo",
	"empty.txt": "",
	"dir/c.yml": "key: value\nlist:\n- 1\n",
}

func readSetFS(path string) ([]byte, error) {
	if s, ok := setFS[path]; ok {
		return []byte(s), nil
	}
	return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
}

// setParsers pairs each of our parsers with Helm's.
var setParsers = []struct {
	mode string
	ours func(s string, dest map[string]any) error
	helm func(s string, dest map[string]any) error
}{
	{"set", ParseSet, helmstrvals.ParseInto},
	{"set-string", ParseSetString, helmstrvals.ParseIntoString},
	{"set-json", ParseSetJSON, helmstrvals.ParseJSON},
	{"set-literal", ParseSetLiteral, helmstrvals.ParseLiteralInto},
	{"set-file", func(s string, dest map[string]any) error {
		return ParseSetFile(s, dest, readSetFS)
	}, func(s string, dest map[string]any) error {
		return helmstrvals.ParseIntoFile(s, dest, func(rs []rune) (any, error) {
			b, err := readSetFS(string(rs))
			if err != nil {
				return nil, err
			}
			return string(b), nil
		})
	}},
}

// setInputs are run through every parser, on an empty destination and on
// setBase.
var setInputs = []string{
	"", ",", "=", "==", ".", "[", "]", "[0]", "[0]=1", "=x", ".a=1", "a.", "a..b=1",
	"name=value", "name=", "name", "name=value,", "name=value,,", "name=value,,,tail",
	"name1,name2", "name1,name2=", "name1,name2=value2", `name1,name2=value2\`,
	"name1.,name2", "name1.=name2", "name1.name2", "name1.name2,name1.name3", "name1.name2=",
	"name1=value1,,,,name2=value2,", "name=one two three", "name=val$val", "name=val,val",
	"name=val.val", "name=val=val", "name=(value", "name=(value)", "name=value)", "name=value}",
	"name={value", "name={value}", "name={value1,value2}", "name={}", "name={,}", "name={a}b",
	"name={a},b=c", "name1={1021,902", "name={a,{b}}", "name={a\\,b}", "name={ a , b }",
	"boolean=true", "b=TRUE", "b=False", "is_null=null", "n=NULL", "zero=0", "neg=-0", "plus=+5",
	"leading_zeros=00009", "long_int=1234567890", "huge=99999999999999999999", "f=1.5", "e=1e3",
	"hex=0x10", "min=-9223372036854775808", "space= 1", "tab=\t1",
	"outer.inner=value", "outer.middle.inner=value", "outer.inner1=value1,outer.inner3=value3,outer.inner4=4",
	"a.b=1,a.c=2", "a.b=1,a.b.c=2", "a=1,a.b=2", "a=null,a.b=2", "a=x,a[0]=y", "a[0]=x,a.b=y",
	"a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.aa.bb.cc.dd=1",
	"a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.aa.bb.cc.dd.ee=1",
	"list[0]=foo", "list[0]=foo,list[1]=bar", "list[0]=foo,list[1]=bar,", "list[0]=foo,list[3]=bar",
	"list[3]=bar", "list[0]=foo,list[-20]=bar", "list[-30].hello=world", "list[0].foo=bar",
	"list[0].foo=bar,list[-30].hello=world", "list[0].foo=bar,list[0].hello=world",
	"list[1].foo=bar,list[0].hello=world", "list[0]=x,list[0].foo=bar", "list[0].a=1,list[0][0]=2",
	"list[0]=x,list[0][1]=y", "list[0]", "list[0]=", "list[0]x", "list[0]x=1", "list[x]=1", "list[]=1",
	"list[+1]=1", "list[ 1]=1", "list[0", "list[65536]=1", "list[65537]=1", "list[99999999999999999999]=1",
	"list[0]={a,b}", "list[0]={a", "list[0]=null", "list[0]=1,", "list[0]=1,list[2]={}",
	"illegal[0]name.foo=bar", "noval[0]", "noval[0]=",
	"nested[0][0]=1", "nested[1][1]=1", "nested[0][0][0]=1,nested[0][1]=2", "nested[0][x]=1",
	"listOuter[0][0].type=listValue", "listOuter[0][1][0].type=listValue", "nested[0]=a,nested[0][0]=b",
	"a\\.b=c", "a\\=b=c", "a\\,b=c", "a=b\\,c", "a=b\\", "a\\", "\\=\\", "a\\[0]=1", "a[\\]0]=1",
	"a=\\{b,c}", "a=\"quoted, string\"",
	"outer.inner1={\"a\":\"1\",\"b\":2,\"c\":[1,2,3]},outer.inner3=[\"new value 1\",\"new value 2\"]",
	"outer.inner1=,outer.inner3={\"aa\":\"1\",\"bb\":2,\"cc\":[1,2,3]},outer.inner3.cc[1]=null",
	`outer.inner1="1",outer.inner3=3,outer.inner4=true,outer.inner5="true"`,
	"j=1x", "j= [1, 2] , k=2", "j={\"a\":1}{", "j=[1,", "j=tru", "j=\"\\u00e9\"", "j=1 2", "j=  ,k=1",
	"j[0]=1,j[1]={\"a\":[1]}", "j[0]= ", "j[2]=\"x\" ,j[0]=true",
	"utf8=héllo wörld,ключ=значение", "bad=\xff\xfe,\xffk=1", "k\x00=v",
	"a=a.txt", "a=b.txt,c=empty.txt", "a=missing.txt", "a={a.txt,b.txt}", "a={a.txt,missing}",
	"l[0]=a.txt", "l[1]=missing", "d.e=dir/c.yml", "a=",
	"key=val,with,commas", "k.x=a=b=c", "k[0]=a,b", "k[0].x=a.b[1]=c",
}

// setBase is a destination prefilled with values of every kind.
func setBase() map[string]any {
	return map[string]any{
		"str":    "s",
		"num":    float64(1),
		"int":    int64(2),
		"nil":    nil,
		"bool":   true,
		"map":    map[string]any{"a": "b", "inner": map[string]any{"x": int64(1)}},
		"list":   []any{"zero", map[string]any{"k": "v"}, nil, []any{"n0"}},
		"name":   map[string]any{"value": "x"},
		"outer":  "scalar",
		"nested": []any{"flat"},
	}
}

// setOnBase are inputs that poke setBase's values of the wrong kind.
var setOnBase = []string{
	"str.a=1", "str[0]=1", "num.a=1", "int[0]=1", "nil.a=1", "nil[0]=1", "bool.x=1",
	"map[0]=1", "map.a.b=1", "map.inner.x=2,map.inner.y=3", "map.inner=null",
	"list[0].a=1", "list[0][0]=1", "list[1].k=w", "list[1][0]=1", "list[2][0]=1", "list[2].a=1",
	"list[3][1]=n1", "list[3][0][0]=deep", "list[5]=x", "name.value[0]=y", "outer.inner=v",
	"nested[0][0]=x", "nested[1][0]=x,nested[0].a=1",
}

func TestParseSetMatchesHelm(t *testing.T) {
	t.Parallel()
	for _, p := range setParsers {
		for _, base := range []bool{false, true} {
			inputs := setInputs
			if base {
				inputs = append(append([]string{}, setInputs...), setOnBase...)
			}
			for _, in := range inputs {
				name := fmt.Sprintf("%s/base=%v/%q", p.mode, base, in)
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					compareSetParse(t, p.ours, p.helm, in, base)
				})
			}
		}
	}
}

// compareSetParse runs one input through both parsers and fails on any
// difference in error text or in the resulting map, even after an error.
func compareSetParse(t testing.TB, ours, helm func(string, map[string]any) error, in string, base bool) {
	t.Helper()
	var got, want map[string]any
	if base {
		got, want = setBase(), setBase()
	} else {
		got, want = map[string]any{}, map[string]any{}
	}
	gotErr := ours(in, got)
	wantErr := helm(in, want)
	if valErrText(gotErr) != valErrText(wantErr) {
		t.Fatalf("input %q: error = %v, Helm's = %v", in, gotErr, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("input %q (error %v):\n got  %#v\n want %#v", in, gotErr, got, want)
	}
}

func valErrText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestParseSetExamples(t *testing.T) {
	t.Parallel()
	type M = map[string]any
	tests := []struct {
		parse func(string, map[string]any) error
		in    string
		want  M
		err   string
	}{
		{ParseSet, "a=1,b=true,c=null,d=007,e={x,2}", M{"a": int64(1), "b": true, "c": nil, "d": "007", "e": []any{"x", int64(2)}}, ""},
		{ParseSetString, "a=1,b=true", M{"a": "1", "b": "true"}, ""},
		{ParseSetLiteral, "a.b=x,y=z\\", M{"a": M{"b": "x,y=z\\"}}, ""},
		{ParseSetJSON, `a={"b":[1,null]},c=`, M{"a": M{"b": []any{float64(1), nil}}, "c": nil}, ""},
		{ParseSet, "a[65537]=1", M{"a": []any{}}, "index of 65537 is greater than maximum supported index of 65536"},
		{ParseSet, "a=1,a.b=2", M{"a": int64(1)}, "unable to parse key: interface conversion: interface {} is int64, not map[string]interface {}"},
		{ParseSet, "a=null,a[0]=2", M{"a": nil}, "unable to parse key: interface conversion: interface {} is nil, not []interface {}"},
		{ParseSet, "a", M{}, `key "a" has no value`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got := M{}
			err := tt.parse(tt.in, got)
			if valErrText(err) != map[bool]string{true: "<nil>", false: tt.err}[tt.err == ""] {
				t.Fatalf("error = %v, want %q", err, tt.err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestParseSetFileReadError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	err := ParseSetFile("a=x", map[string]any{}, func(string) ([]byte, error) { return nil, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("error = %v, want it to wrap the reader's error", err)
	}
}

// fuzzSet cross-checks one parser against Helm's on arbitrary input.
func fuzzSet(f *testing.F, mode string) {
	for _, s := range append(append([]string{}, setInputs...), setOnBase...) {
		f.Add(s, false)
		f.Add(s, true)
	}
	var ours, helm func(string, map[string]any) error
	for _, p := range setParsers {
		if p.mode == mode {
			ours, helm = p.ours, p.helm
		}
	}
	f.Fuzz(func(t *testing.T, in string, base bool) {
		if strings.Count(in, "[") > 200 {
			t.Skip("deep list nesting only exercises the stack")
		}
		compareSetParse(t, ours, helm, in, base)
	})
}

func FuzzParseSet(f *testing.F)        { fuzzSet(f, "set") }
func FuzzParseSetString(f *testing.F)  { fuzzSet(f, "set-string") }
func FuzzParseSetJSON(f *testing.F)    { fuzzSet(f, "set-json") }
func FuzzParseSetLiteral(f *testing.F) { fuzzSet(f, "set-literal") }
func FuzzParseSetFile(f *testing.F)    { fuzzSet(f, "set-file") }
