package lint

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/lint/rules"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
)

// decodeTrace lists what decoding a rendered template yields, object by
// object, up to the first error (as the template rule stops there).
type decodeTrace []string

func kubeDecode(content string) decodeTrace {
	var out decodeTrace
	d := k8syaml.NewYAMLOrJSONDecoder(strings.NewReader(content), 4096)
	for i := 0; i < 1000; i++ {
		var obj *rules.K8sYamlStruct
		err := d.Decode(&obj)
		if err == io.EOF {
			return out
		}
		if err != nil {
			return append(out, "error: "+err.Error())
		}
		if obj == nil {
			out = append(out, "nil")
			continue
		}
		out = append(out, fmt.Sprintf("%q %q %q %q", obj.APIVersion, obj.Kind, obj.Metadata.Name, obj.Metadata.Namespace))
	}
	return append(out, "too many objects")
}

func ourDecode(content string) decodeTrace {
	var out decodeTrace
	d := newObjectDecoder(content)
	for i := 0; i < 1000; i++ {
		var obj *K8sYamlStruct
		err := d.next(&obj)
		if err == io.EOF {
			return out
		}
		if err != nil {
			return append(out, "error: "+err.Error())
		}
		if obj == nil {
			out = append(out, "nil")
			continue
		}
		out = append(out, fmt.Sprintf("%q %q %q %q", obj.APIVersion, obj.Kind, obj.Metadata.Name, obj.Metadata.Namespace))
	}
	return append(out, "too many objects")
}

var manifestCorpus = []string{
	"",
	"\n\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a",
	"---\napiVersion: v1\nkind: A\n---\n---\nkind: B\n",
	"kind: A\n--- # comment\nkind: B\n---#x\nkind: C\n",
	"kind: A\n--- not-a-comment\nkind: B\n",
	"kind: A\n----\nkind: B\n",
	"# only a comment\n",
	"kind: A\n---\n# only a comment\n---\nkind: B\n",
	"kind: A\r\nmetadata:\r\n  name: b\r\n---\r\nkind: C\r\n",
	"kind: A\r",
	"kind: [a]\n",
	"- a\n- b\n",
	"just a string\n",
	"42\n",
	"metadata: foo\n",
	"metadata:\n  name: [x]\n",
	"metadata:\n  name: 12\n  namespace: true\n",
	"apiVersion: 1.5\nkind: 7\n",
	"KIND: Upper\nApiVersion: v9\nMETADATA:\n  NAME: n\n",
	"kind: A\nkind: B\n",
	"a: {b\n",
	"\tkind: A\n",
	"  kind: A\n",
	"{\"kind\": \"A\", \"metadata\": {\"name\": \"x\"}}",
	"  \n{\"kind\": \"A\"}\n{\"kind\": \"B\"}\n",
	"{\"kind\": \"A\"}\n---\nkind: B\n",
	"{\"kind\": \"A\"}\n{\"kind\": \"B\"}\n{\"kind\": oops}\n",
	"{\"kind\": \"A\"}\n{\"kind\": oops}\n",
	"{\"kind\": \"A\"}x",
	"{\"kind\": \"A\"}  \n  x: 1\n",
	"{\"kind\": \"A\"}\n\u00a0kind: B\n",
	"{\"kind\": 5}\n",
	"{\"kind\": [5]}\n",
	"{\"metadata\": \"m\"}\n",
	"{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\",, }\n",
	"{\n",
	"{}",
	"{}{}{}",
	"[1, 2]\n",
	"null\n",
	"~\n",
	"{\"kind\": \"A\"}\xff\xfe",
	"{\"kind\": \"A\"}\n\xef\xbf\xbdkind: B\n",
	strings.Repeat(" ", 5000) + "{\"kind\": \"A\"}",
	strings.Repeat("\n", 5000) + "kind: A\n",
	"kind: A\n" + strings.Repeat("x", 70000) + ": 1\n",
	"--- !tag\nkind: A\n",
	"kind: A\n...\n---\nkind: B\n",
	"kind: List\nitems:\n- metadata:\n    annotations:\n      helm.sh/resource-policy: keep\n",
}

func TestObjectDecoderMatchesKubernetes(t *testing.T) {
	for i, c := range manifestCorpus {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			want, got := kubeDecode(c), ourDecode(c)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("input %q\n got %q\nwant %q", c, got, want)
			}
		})
	}
}

func FuzzObjectDecoder(f *testing.F) {
	for _, c := range manifestCorpus {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, c string) {
		want, got := kubeDecode(c), ourDecode(c)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("input %q\n got %q\nwant %q", c, got, want)
		}
	})
}
