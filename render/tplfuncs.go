package render

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"text/template"
	"text/template/parse"
)

// includeLimit is how often one name may be included within itself, as
// in Helm: the 1002nd nested include of a name fails.
const includeLimit = 1000

var (
	errUnbound      = errors.New("template function used outside a render")
	errIncludeDepth = errors.New("unable to execute template")
)

// renderState is what the functions of a template set need from the
// render in progress: the engine's options and the count of includes in
// progress per name. A set and its state serve one render at a time.
type renderState struct {
	templates *chartTemplates
	engine    Engine
	included  map[string]int
	// bufs are output buffers kept for the next include or tpl: each
	// output is then copied once into its string instead of growing a
	// new buffer step by step.
	bufs []*bytes.Buffer
}

// Bounds of the buffers a render state keeps.
const (
	keptBuffers    = 16
	keptBufferSize = 1 << 20
)

// reset prepares the state for a render with e's options.
func (st *renderState) reset(e Engine) {
	st.engine = e
	clear(st.included)
}

// buffer returns an empty output buffer.
func (st *renderState) buffer() *bytes.Buffer {
	if n := len(st.bufs); n > 0 {
		b := st.bufs[n-1]
		st.bufs = st.bufs[:n-1]
		b.Reset()
		return b
	}
	return new(bytes.Buffer)
}

// release keeps a buffer for reuse, unless it is large.
func (st *renderState) release(b *bytes.Buffer) {
	if b.Cap() <= keptBufferSize && len(st.bufs) < keptBuffers {
		st.bufs = append(st.bufs, b)
	}
}

// required returns val, or fails with warn when val is nil or "" (in lint
// mode it returns "" instead of failing).
func (st *renderState) required(warn string, val any) (any, error) {
	if val != nil && val != "" {
		return val, nil
	}
	if st.engine.LintMode {
		st.warn("[INFO] Missing required value: " + warn)
		return "", nil
	}
	return val, &failureError{msg: warn}
}

// fail fails the render with msg (in lint mode it returns "").
func (st *renderState) fail(msg string) (string, error) {
	if st.engine.LintMode {
		st.warn("[INFO] Fail: " + msg)
		return "", nil
	}
	return "", &failureError{msg: msg}
}

// warn passes a message to the engine's Warn, if any.
func (st *renderState) warn(msg string) {
	if st.engine.Warn != nil {
		st.engine.Warn(msg)
	}
}

// lookup asks the engine's LookupFunc, or returns an empty map when there
// is none or when linting, as Helm does without a cluster.
func (st *renderState) lookup(apiVersion, kind, namespace, name string) (map[string]any, error) {
	if st.engine.Lookup == nil || st.engine.LintMode {
		return map[string]any{}, nil
	}
	return st.engine.Lookup(apiVersion, kind, namespace, name)
}

// getHostByName resolves a host name only when the engine enables DNS;
// otherwise it returns "", as Helm does by default.
func (st *renderState) getHostByName(name string) string {
	if !st.engine.EnableDNS || st.templates.funcs.hostByName == nil {
		return ""
	}
	return st.templates.funcs.hostByName(name)
}

// tplScope binds include and tpl to the template set they resolve names
// in: the render's set, or a copy made by tpl for text that defines
// templates, whose definitions are visible only while that text runs.
type tplScope struct {
	set   *template.Template
	state *renderState
	// copiesOnly is set in copies made for text that mentions
	// rootTemplateName: there the name may resolve to that text, so
	// nested tpl calls must register theirs too, working on copies.
	copiesOnly bool
}

// include executes the named template with data and returns its output.
func (s *tplScope) include(name string, data any) (string, error) {
	n := s.state.included[name]
	if n > includeLimit {
		return "", fmt.Errorf("rendering template has a nested reference name: %s: %w", name, errIncludeDepth)
	}
	s.state.included[name] = n + 1
	out := s.state.buffer()
	err := s.set.ExecuteTemplate(out, name, data)
	s.state.included[name]--
	text := out.String()
	s.state.release(out)
	return text, err
}

// tpl executes text as a template with data. The text sees every template
// of the set and may define its own, which shadow the set's only while the
// text runs. Text without definitions (nearly all of it) is parsed once
// per chart and run directly in the set; text with definitions runs in a
// copy of the set, as in Helm.
func (s *tplScope) tpl(text string, data any) (string, error) {
	tree, err := s.state.templates.tplTree(text)
	if err != nil {
		return "", fmt.Errorf("cannot parse template %q: %w", text, err)
	}
	var t *template.Template
	if tree != nil && !s.copiesOnly {
		t = s.set.New(rootTemplateName)
		t.Tree = tree
	} else {
		t, err = s.isolated(text)
		if err != nil {
			return "", err
		}
	}
	out := s.state.buffer()
	defer s.state.release(out)
	if err := t.Execute(out, data); err != nil {
		return "", fmt.Errorf("error during tpl function execution for %q: %w", text, err)
	}
	return strings.ReplaceAll(out.String(), "<no value>", ""), nil
}

// isolated parses text into a copy of the set whose include and tpl
// resolve names in that copy.
func (s *tplScope) isolated(text string) (*template.Template, error) {
	set, err := s.set.Clone()
	if err != nil {
		return nil, fmt.Errorf("cannot clone template: %w", err)
	}
	set.Option(missingKeyOption(s.state.engine.Strict))
	inner := &tplScope{set: set, state: s.state, copiesOnly: s.copiesOnly || strings.Contains(text, rootTemplateName)}
	set.Funcs(template.FuncMap{fnInclude: inner.include, fnTpl: inner.tpl})
	t, err := set.New(rootTemplateName).Parse(text)
	if err != nil {
		return nil, fmt.Errorf("cannot parse template %q: %w", text, err)
	}
	return t, nil
}

// Bounds of the per-chart cache of tpl texts.
const (
	tplCacheEntries = 4096
	tplCacheMaxText = 64 << 10
)

// tplCache keeps the parse of tpl texts per chart.
type tplCache struct {
	m sync.Map // text -> *tplParse
	n atomic.Int64
}

// tplParse is a parsed tpl text: the tree to run directly in the set, or
// nil when the text needs a copy of the set; or the parse error.
type tplParse struct {
	tree *parse.Tree
	err  error
}

// tplTree returns the tree of a tpl text that can run directly in a
// render's set, nil when it must run in a copy (it defines templates,
// mentions rootTemplateName, or a template of the chart does), or
// the parse error, which is the one Helm reports.
func (ct *chartTemplates) tplTree(text string) (*parse.Tree, error) {
	if v, ok := ct.tpls.m.Load(text); ok {
		p := v.(*tplParse)
		return p.tree, p.err
	}
	p := &tplParse{}
	trees, err := parse.Parse(rootTemplateName, text, "", "", ct.funcs.funcs, ct.funcs.builtins)
	switch {
	case err != nil:
		p.err = err
	case len(trees) == 1 && !ct.mentionsRoot && !strings.Contains(text, rootTemplateName):
		p.tree = trees[rootTemplateName]
	}
	if len(text) <= tplCacheMaxText && ct.tpls.n.Load() < tplCacheEntries {
		if _, loaded := ct.tpls.m.LoadOrStore(text, p); !loaded {
			ct.tpls.n.Add(1)
		}
	}
	return p.tree, p.err
}
