package render

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"pkg.dev/pkg/chart"
)

// engChart builds one of our charts in code.
func engChart(name string, templates map[string]string, subs ...*chart.Chart) *chart.Chart {
	c := &chart.Chart{Metadata: &chart.Metadata{Name: name, Version: "0.1.0", APIVersion: "v2"}}
	for _, n := range slices.Sorted(maps.Keys(templates)) {
		c.Templates = append(c.Templates, &chart.File{Name: n, Data: []byte(templates[n])})
	}
	c.AddDependency(subs...)
	return c
}

func engTop(t testing.TB, c *chart.Chart, vals map[string]any) map[string]any {
	t.Helper()
	top, err := RenderValues(c, vals, ReleaseOptions{Name: "r", Namespace: "ns", Revision: 1, IsInstall: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return top
}

// TestPreparedConcurrentRenders renders one Prepared chart from several
// goroutines with different values; each must see only its own.
func TestPreparedConcurrentRenders(t *testing.T) {
	t.Parallel()
	c := engChart("c", map[string]string{
		"templates/_h.tpl": `{{ define "h" }}{{ .Values.n }}{{ end }}`,
		"templates/a.yaml": `{{ include "h" . }} {{ tpl "{{ .Values.n }}" . }} {{ tpl "{{ define \"d\" }}{{ .Values.n }}{{ end }}{{ include \"d\" . }}" . }} {{ $_ := set . "seen" .Values.n }}{{ .seen }}`,
	})
	p, err := Engine{}.Prepare(c)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				n := fmt.Sprint(g*1000 + i)
				out, err := p.Render(engTop(t, c, map[string]any{"n": n}))
				if err != nil {
					errs <- err
					return
				}
				if want := strings.Repeat(n+" ", 3) + n; out["c/templates/a.yaml"] != want {
					errs <- fmt.Errorf("got %q, want %q", out["c/templates/a.yaml"], want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestCacheReusesAndNotices checks that a Cache reuses a chart's parse,
// notices a changed tree, and shares the parse of unchanged files across
// loads of the same chart.
func TestCacheReusesAndNotices(t *testing.T) {
	t.Parallel()
	build := func() *chart.Chart {
		sub := engChart("sub", map[string]string{"templates/s.yaml": "sub {{ .Values.x }}"})
		return engChart("top", map[string]string{"templates/a.yaml": "a {{ .Values.sub.x }}"}, sub)
	}
	cache := &Cache{}
	e := Engine{Cache: cache}
	c := build()
	top := engTop(t, c, map[string]any{"sub": map[string]any{"x": 1}})

	p1, err := e.Prepare(c)
	if err != nil {
		t.Fatal(err)
	}
	p2, _ := e.Prepare(c)
	if p1.templates != p2.templates {
		t.Error("unchanged chart prepared twice")
	}

	// Replacing a template file is noticed.
	c.Templates[0] = &chart.File{Name: "templates/a.yaml", Data: []byte("changed")}
	out, err := e.Render(c, top)
	if err != nil || out["top/templates/a.yaml"] != "changed" {
		t.Fatalf("after replacing a file: %q %v", out["top/templates/a.yaml"], err)
	}
	// So is dropping a subchart.
	c.SetDependencies()
	out, err = e.Render(c, top)
	if err != nil || len(out) != 1 {
		t.Fatalf("after dropping the subchart: %v %v", out, err)
	}

	// A second load of the same chart reuses the parse of each file.
	c2 := build()
	c3 := build()
	pa, _ := e.Prepare(c2)
	pb, _ := e.Prepare(c3)
	if pa.templates == pb.templates {
		t.Fatal("distinct charts share a prepared tree")
	}
	ta := pa.templates.entries[0].trees["top/charts/sub/templates/s.yaml"]
	tb := pb.templates.entries[0].trees["top/charts/sub/templates/s.yaml"]
	if ta == nil || ta != tb {
		t.Errorf("parse of an unchanged file not shared: %p %p", ta, tb)
	}
}

// TestEnginesShareACache renders through one Cache with engines of
// different options; each render must follow its own engine's.
func TestEnginesShareACache(t *testing.T) {
	t.Parallel()
	cache := &Cache{}
	c := engChart("s", map[string]string{"templates/a.yaml": `[{{ .Values.missing }}]{{ required "r" .Values.none }}`})
	top := engTop(t, c, nil)
	strict, lint := Engine{Strict: true, LintMode: true, Cache: cache}, Engine{LintMode: true, Cache: cache}
	for i := range 3 {
		if _, err := strict.Render(c, top); err == nil || !strings.Contains(err.Error(), `map has no entry for key "missing"`) {
			t.Errorf("round %d: strict render gave %v", i, err)
		}
		out, err := lint.Render(c, top)
		if err != nil || out["s/templates/a.yaml"] != "[]" {
			t.Errorf("round %d: lenient render gave %q %v", i, out, err)
		}
		if _, err := (Engine{Cache: cache}).Render(c, top); err == nil || err.Error() != "execution error at (s/templates/a.yaml:1:26): r" {
			t.Errorf("round %d: default render gave %v", i, err)
		}
	}
}

// TestLookup checks that lookup calls the engine's LookupFunc, except in
// lint mode, and that its errors fail the render.
func TestLookup(t *testing.T) {
	t.Parallel()
	c := engChart("l", map[string]string{"templates/a.yaml": `{{ $s := lookup "v1" "Secret" "ns" "db" }}{{ if $s }}{{ $s.data.password }}{{ end }}`})
	top := engTop(t, c, nil)
	var calls []string
	fake := func(apiVersion, kind, namespace, name string) (map[string]any, error) {
		calls = append(calls, strings.Join([]string{apiVersion, kind, namespace, name}, "/"))
		if name == "db" {
			return map[string]any{"data": map[string]any{"password": "c2VjcmV0"}}, nil
		}
		return nil, errors.New("boom")
	}
	out, err := Engine{Lookup: fake}.Render(c, top)
	if err != nil || out["l/templates/a.yaml"] != "c2VjcmV0" || len(calls) != 1 || calls[0] != "v1/Secret/ns/db" {
		t.Fatalf("got %q %v, calls %v", out, err, calls)
	}
	out, err = Engine{Lookup: fake, LintMode: true}.Render(c, top)
	if err != nil || out["l/templates/a.yaml"] != "" || len(calls) != 1 {
		t.Fatalf("lint mode: got %q %v, calls %v", out, err, calls)
	}
	c2 := engChart("l", map[string]string{"templates/a.yaml": `{{ lookup "v1" "Secret" "ns" "other" }}`})
	_, err = Engine{Lookup: fake}.Render(c2, top)
	want := `template: l/templates/a.yaml:1:3: executing "l/templates/a.yaml" at <lookup "v1" "Secret" "ns" "other">: error calling lookup: boom`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

// TestGetHostByName resolves only with EnableDNS (localhost: no network).
func TestGetHostByName(t *testing.T) {
	t.Parallel()
	c := engChart("d", map[string]string{"templates/a.yaml": `{{ getHostByName "localhost" }}`})
	top := engTop(t, c, nil)
	out, err := Engine{}.Render(c, top)
	if err != nil || out["d/templates/a.yaml"] != "" {
		t.Fatalf("without DNS: %q %v", out, err)
	}
	out, err = Engine{EnableDNS: true}.Render(c, top)
	if err != nil || out["d/templates/a.yaml"] == "" {
		t.Fatalf("with DNS: %q %v", out, err)
	}
}

// TestRenderBadCharts covers charts the engine cannot render.
func TestRenderBadCharts(t *testing.T) {
	t.Parallel()
	if _, err := (Engine{}).Render(nil, nil); err == nil {
		t.Error("nil chart rendered")
	}
	if _, err := (Engine{Cache: &Cache{}}).Render(nil, nil); err == nil {
		t.Error("nil chart rendered through a cache")
	}
	c := engChart("ok", nil, &chart.Chart{})
	if _, err := (Engine{}).Render(c, nil); err == nil || !strings.Contains(err.Error(), "no metadata") {
		t.Errorf("chart without metadata: %v", err)
	}
	// Values of any type and no top-level values at all render as in Helm.
	c = engChart("v", map[string]string{"templates/a.yaml": `{{ .Values }}|{{ .Release }}|{{ .Capabilities }}`})
	out, err := Engine{}.Render(c, map[string]any{"Values": ""})
	if err != nil || out["v/templates/a.yaml"] != "||" {
		t.Errorf("got %q %v", out, err)
	}
}

// TestTplCacheBounds checks that tpl's parse cache stops growing.
func TestTplCacheBounds(t *testing.T) {
	t.Parallel()
	c := engChart("t", map[string]string{"templates/a.yaml": `{{ range $i := until 5000 }}{{ tpl (printf "{{ %d }}" $i) $ }}{{ end }}{{ tpl .Values.big . }}`})
	p, err := Engine{}.Prepare(c)
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", tplCacheMaxText+1)
	out, err := p.Render(engTop(t, c, map[string]any{"big": big}))
	if err != nil || !strings.HasSuffix(out["t/templates/a.yaml"], "49984999"+big) {
		t.Fatalf("render: %v", err)
	}
	if n := p.templates.tpls.n.Load(); n != tplCacheEntries {
		t.Errorf("cache holds %d texts, want %d", n, tplCacheEntries)
	}
	if _, ok := p.templates.tpls.m.Load(big); ok {
		t.Error("oversized text cached")
	}
}

// TestLintWarnings checks that lint mode reports what Helm logs.
func TestLintWarnings(t *testing.T) {
	t.Parallel()
	c := engChart("w", map[string]string{"templates/a.yaml": `{{ required "need a" .Values.a }}{{ fail "failed" }}{{ required "fine" 1 }}`})
	var got []string
	e := Engine{LintMode: true, Warn: func(msg string) { got = append(got, msg) }}
	if _, err := e.Render(c, engTop(t, c, nil)); err != nil {
		t.Fatal(err)
	}
	want := []string{"[INFO] Missing required value: need a", "[INFO] Fail: failed"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
