package render

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"

	"pkg.dev/pkg/chart"
)

// rootTemplateName names the template that holds all of a render's
// templates together, and the text given to tpl. It shows in error
// messages ("template: gotpl:1:3: ..."), so it is Helm's name.
const rootTemplateName = "gotpl"

// chartTemplates is a chart tree's templates parsed once, in Helm's order,
// ready to be assembled into template sets for any number of renders. It
// is read-only after it is built, except for its idle template sets and
// its cache of tpl texts, which are safe for concurrent use.
type chartTemplates struct {
	nodes   []chartNode
	entries []templateEntry
	funcs   *funcTable
	// mentionsRoot is set when a template file mentions rootTemplateName
	// (defines or includes a template of that name): tpl then always works
	// on a copy of the set holding its text under that name, as Helm's
	// does, because the name resolves to that text while it runs.
	mentionsRoot bool

	// sets are idle template sets kept for reuse. A bounded channel
	// rather than a sync.Pool: a pool is emptied by every other garbage
	// collection, and renders allocate enough to collect often.
	sets chan *templateSet
	tpls tplCache

	// demand is what the templates ask of the crypto functions, and
	// ahead the work done ahead for them (see aheadWork); ahead is set
	// before the first template set is made.
	demand cryptoDemand
	ahead  *aheadWork
}

// chartNode is one chart of the tree, in the order Helm walks it: a chart
// first, then each subchart's subtree in dependency order. The charts
// themselves are not kept here but with each Prepared (see treeCharts):
// trees of the same shape, such as the copies Template renders, share one
// chartTemplates.
type chartNode struct {
	children []int
}

// templateEntry is one template file to parse and, unless it is a
// partial, render.
type templateEntry struct {
	// name is the file's name in the set: "chart/templates/x.yaml", or
	// "parent/charts/sub/templates/x.yaml" for a subchart.
	name string
	// basePath is .Template.BasePath: the chart's templates directory.
	basePath string
	// node is the chart the file belongs to.
	node int
	// partial files (base name starting with "_") are parsed but not
	// rendered.
	partial bool
	// text is the file's contents.
	text []byte
	// trees are the parse trees of the file: its body under name and
	// each definition under its own name.
	trees map[string]*parse.Tree
}

// treeSource supplies parse trees of template files, possibly from a
// cache. parse is called with the file name and contents.
type treeSource func(name string, text []byte) (map[string]*parse.Tree, error)

// newChartTemplates collects and parses the templates of c and its
// subcharts, in Helm's order, using parseFn for each file. It fails with a
// *TemplateError on the first file, in that order, that does not parse.
func newChartTemplates(c *chart.Chart, funcs *funcTable, parseFn treeSource) (*chartTemplates, error) {
	if c == nil {
		return nil, errors.New("rendering templates: no chart")
	}
	ct := &chartTemplates{funcs: funcs, sets: make(chan *templateSet, idleSets)}
	byName := map[string]templateEntry{}
	if err := ct.collect(c, byName); err != nil {
		return nil, err
	}
	ct.entries = slices.SortedFunc(maps.Values(byName), compareTemplateOrder)
	for i := range ct.entries {
		e := &ct.entries[i]
		trees, err := parseFn(e.name, e.text)
		if err != nil {
			return nil, newParseError(e.name, err)
		}
		e.trees = trees
		scanCryptoDemand(trees, &ct.demand)
		if bytes.Contains(e.text, []byte(rootTemplateName)) {
			ct.mentionsRoot = true
		}
	}
	return ct, nil
}

// collect adds c's subtree to the nodes and its templates to byName, in
// the order Helm visits them: subcharts first, then the chart's own
// templates, a later file replacing an earlier one of the same name.
// Library charts contribute only their partials.
func (ct *chartTemplates) collect(c *chart.Chart, byName map[string]templateEntry) error {
	if c.Metadata == nil {
		return fmt.Errorf("rendering templates: chart %q has no metadata", c.ChartFullPath())
	}
	idx := len(ct.nodes)
	ct.nodes = append(ct.nodes, chartNode{})
	for _, sub := range c.Dependencies() {
		ct.nodes[idx].children = append(ct.nodes[idx].children, len(ct.nodes))
		if err := ct.collect(sub, byName); err != nil {
			return err
		}
	}
	full := c.ChartFullPath()
	library := strings.EqualFold(c.Metadata.Type, chart.TypeLibrary)
	for _, f := range c.Templates {
		if f == nil {
			continue
		}
		partial := strings.HasPrefix(path.Base(f.Name), "_")
		if library && !partial {
			continue
		}
		name := path.Join(full, f.Name)
		byName[name] = templateEntry{
			name:     name,
			basePath: path.Join(full, "templates"),
			node:     idx,
			partial:  partial,
			text:     f.Data,
		}
	}
	return nil
}

// compareTemplateOrder orders templates as Helm parses and renders them:
// deeper paths (more slashes) first, then names in reverse byte order. The
// order decides which of two definitions of a name wins (the later one)
// and which failure is reported when several templates fail.
func compareTemplateOrder(a, b templateEntry) int {
	if c := cmp.Compare(strings.Count(b.name, "/"), strings.Count(a.name, "/")); c != 0 {
		return c
	}
	return strings.Compare(b.name, a.name)
}

// treeCharts lists the charts of c's tree in the order of the nodes of
// its chartTemplates.
func treeCharts(c *chart.Chart, into []*chart.Chart) []*chart.Chart {
	into = append(into, c)
	for _, sub := range c.Dependencies() {
		into = treeCharts(sub, into)
	}
	return into
}

// parseTemplateFile parses one template file as text/template would
// within a set holding the chart language's functions.
func parseTemplateFile(funcs *funcTable) treeSource {
	return func(name string, text []byte) (map[string]*parse.Tree, error) {
		return parse.Parse(name, string(text), "", "", funcs.funcs, funcs.builtins)
	}
}

// templateSet is the template set of one render at a time: every template
// of the chart tree under one root, with functions bound to its state.
// Sets are kept per chart for reuse and never used by two renders at once.
type templateSet struct {
	root  *template.Template
	state *renderState
}

// idleSets bounds the template sets a chart keeps for reuse: enough for
// the renders one process runs at once.
const idleSets = 8

// acquireSet returns a template set ready for a render with e's options.
func (ct *chartTemplates) acquireSet(e Engine) *templateSet {
	var s *templateSet
	select {
	case s = <-ct.sets:
	default:
		s = ct.newSet()
	}
	s.state.reset(e)
	s.root.Option(missingKeyOption(e.Strict))
	return s
}

// releaseSet keeps a set for reuse after a render that did not panic.
func (ct *chartTemplates) releaseSet(s *templateSet) {
	select {
	case ct.sets <- s:
	default:
	}
}

// newSet assembles a template set from the parsed trees, adding each
// file's trees in order as text/template's Parse would, so that later
// definitions replace earlier ones, except that an empty definition never
// replaces a non-empty one.
func (ct *chartTemplates) newSet() *templateSet {
	st := &renderState{templates: ct, included: map[string]int{}}
	root := template.New(rootTemplateName)
	top := &tplScope{set: root, state: st}

	root.Funcs(ct.funcs.funcs)
	root.Funcs(ct.funcs.cryptoFuncs(ct.ahead))
	root.Funcs(template.FuncMap{
		fnInclude:       top.include,
		fnTpl:           top.tpl,
		fnRequired:      st.required,
		fnFail:          st.fail,
		fnLookup:        st.lookup,
		fnGetHostByName: st.getHostByName,
	})

	for _, e := range ct.entries {
		file := root.New(e.name)
		for name, tree := range e.trees {
			// AddParseTree fails only for html/template.
			_, _ = file.AddParseTree(name, tree)
		}
	}
	return &templateSet{root: root, state: st}
}

// missingKeyOption is the text/template option for a map key that is
// missing: an error in strict mode, the zero value otherwise.
func missingKeyOption(strict bool) string {
	if strict {
		return "missingkey=error"
	}
	return "missingkey=zero"
}
