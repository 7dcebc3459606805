package render

import (
	"fmt"
	"strings"

	"pkg.dev/pkg/chart"
)

// Engine executes a chart's templates as Helm v3.22.0's engine does: the
// same functions, scoping of values, order, missing-value handling and
// error messages, so that its output is Helm's byte for byte.
//
// Parsing is the larger part of rendering a chart. Prepare parses a chart
// tree once for any number of renders; Render prepares and renders in one
// step, reusing earlier work through Cache when one is set. An Engine is a
// value: copies share only the Cache, which is safe for concurrent use.
type Engine struct {
	// Strict makes a missing map key an error instead of an empty value.
	Strict bool
	// LintMode makes required and fail return "" instead of failing, and
	// lookup return empty results.
	LintMode bool
	// EnableDNS lets getHostByName resolve names (through the system
	// resolver); otherwise it returns "".
	EnableDNS bool
	// Lookup serves the lookup function; nil returns empty maps, as Helm
	// does without a cluster.
	Lookup LookupFunc
	// Warn, when set, receives the messages Helm's engine logs, worded as
	// Helm words them: in lint mode, "[INFO] Missing required value: MSG"
	// for required and "[INFO] Fail: MSG" for fail.
	Warn func(msg string)
	// Cache, when set, keeps parsed templates across calls to Render and
	// Prepare. Without it every call parses the chart again, as Helm does.
	Cache *Cache
}

// Prepared is a chart tree whose templates are parsed, bound to the
// options of the Engine that prepared it. It renders any number of times,
// concurrently too; the chart must not change while it is in use.
type Prepared struct {
	engine    Engine
	templates *chartTemplates
	// charts are the charts of the tree, in the order of the nodes of
	// templates.
	charts []*chart.Chart
}

// Prepare parses the templates of c and its subcharts. A template that
// does not parse gives a *TemplateError (the first failing file in Helm's
// order, as Helm reports it).
//
// When the templates call functions that generate RSA keys (genCA,
// genSelfSignedCert, genSignedCert, genPrivateKey "rsa"), Prepare starts
// generating keys for them in the background, a few at most; each render
// takes fresh ones, so output is as random as Helm's. Without a Cache the
// generation stops when the Prepared is garbage; with one, when the Cache
// is closed or garbage.
func (e Engine) Prepare(c *chart.Chart) (*Prepared, error) {
	p, err := e.prepare(c)
	if err != nil {
		return nil, err
	}
	if e.Cache == nil {
		stopWhenUnreachable(p, p.templates.ahead)
	}
	return p, nil
}

// prepare is Prepare without tying background work to the Prepared.
func (e Engine) prepare(c *chart.Chart) (*Prepared, error) {
	var ct *chartTemplates
	var err error
	if e.Cache != nil {
		ct, err = e.Cache.templates(c)
	} else {
		funcs := newFuncTable()
		ct, err = newChartTemplates(c, funcs, parseTemplateFile(funcs))
		if err == nil {
			ct.ahead = newAheadWork(false)
			ct.ahead.start(ct.demand, funcs)
		}
	}
	if err != nil {
		return nil, err
	}
	return &Prepared{engine: e, templates: ct, charts: treeCharts(c, nil)}, nil
}

// Render executes the templates of c and its subcharts with top, the
// values RenderValues builds, and returns each rendered template by name:
// "chart/templates/x.yaml", "chart/charts/sub/templates/y.yaml". Partials
// (base name starting with "_") and the non-partial templates of library
// charts are not rendered; NOTES.txt files are, for every chart, as in
// Helm (the caller picks the ones it shows).
//
// Failures are *TemplateError values whose Error text is Helm's. Templates
// can modify the values they are given (with set, for instance), as under
// Helm, so do not share one values map between concurrent renders.
func (e Engine) Render(c *chart.Chart, top map[string]any) (map[string]string, error) {
	p, err := e.prepare(c)
	if err != nil {
		return nil, err
	}
	if e.Cache == nil {
		defer p.templates.ahead.stop()
	}
	return p.Render(top)
}

// Render executes the prepared templates with top; see Engine.Render.
func (p *Prepared) Render(top map[string]any) (out map[string]string, err error) {
	ct := p.templates
	set := ct.acquireSet(p.engine)
	defer func() {
		if r := recover(); r != nil {
			// The set may be half-way through an include: drop it.
			out, err = nil, fmt.Errorf("rendering template failed: %v", r)
			return
		}
		ct.releaseSet(set)
	}()

	scopes := ct.chartScopes(p.charts, top)
	out = make(map[string]string, len(ct.entries))
	buf := set.state.buffer()
	defer set.state.release(buf)
	for i := range ct.entries {
		e := &ct.entries[i]
		if e.partial {
			continue
		}
		scope := scopes[e.node]
		scope["Template"] = Values{"Name": e.name, "BasePath": e.basePath}
		buf.Reset()
		if err := set.root.ExecuteTemplate(buf, e.name, scope); err != nil {
			return nil, newExecError(e.name, err)
		}
		out[e.name] = strings.ReplaceAll(buf.String(), "<no value>", "")
	}
	return out, nil
}
