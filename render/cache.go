package render

import (
	"slices"
	"sync"
	"text/template/parse"

	"pkg.dev/pkg/chart"
)

// Bounds of a Cache; past them it starts over rather than grow.
const (
	cacheMaxCharts    = 256
	cacheMaxTreeBytes = 64 << 20
)

// Cache keeps parsed templates for an Engine across renders. It remembers
// each chart tree it has prepared (by the pointer of its root chart,
// checked against the tree's current subcharts and template files, so a
// changed tree is prepared again) and the parse of each template file (by
// name and contents, so that a chart loaded again is not parsed again).
// A file's contents must not be changed in place once rendered through a
// Cache; replacing files, templates or subcharts is fine.
//
// The zero value is ready to use. A Cache is safe for concurrent use.
type Cache struct {
	mu        sync.Mutex
	funcs     *funcTable
	charts    map[*chart.Chart]*cachedChart
	trees     map[string]*cachedTrees
	treeBytes int
}

// cachedChart is a prepared chart tree with the shape it was prepared
// from.
type cachedChart struct {
	shape     []shapeItem
	templates *chartTemplates
}

// cachedTrees is the parse of one template file.
type cachedTrees struct {
	text  string
	trees map[string]*parse.Tree
}

// shapeItem records one chart, or one template file of it, of a chart
// tree as it was when prepared.
type shapeItem struct {
	chart  *chart.Chart
	parent *chart.Chart
	meta   *chart.Metadata
	name   string
	kind   string
	deps   int
	file   *chart.File
	data   *byte
	size   int
}

// templates returns the prepared templates of c, from the cache when c's
// tree has not changed.
func (k *Cache) templates(c *chart.Chart) (*chartTemplates, error) {
	if c == nil {
		return newChartTemplates(c, nil, nil)
	}
	shape := chartShape(c, nil)
	k.mu.Lock()
	if k.funcs == nil {
		k.funcs = newFuncTable()
	}
	funcs := k.funcs
	if hit := k.charts[c]; hit != nil && slices.Equal(hit.shape, shape) {
		k.mu.Unlock()
		return hit.templates, nil
	}
	k.mu.Unlock()

	ct, err := newChartTemplates(c, funcs, k.parseFile(funcs))
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	if k.charts == nil || len(k.charts) >= cacheMaxCharts {
		k.charts = map[*chart.Chart]*cachedChart{}
	}
	k.charts[c] = &cachedChart{shape: shape, templates: ct}
	k.mu.Unlock()
	return ct, nil
}

// parseFile parses template files through the cache.
func (k *Cache) parseFile(funcs *funcTable) treeSource {
	parseFn := parseTemplateFile(funcs)
	return func(name string, text []byte) (map[string]*parse.Tree, error) {
		k.mu.Lock()
		hit := k.trees[name]
		k.mu.Unlock()
		if hit != nil && hit.text == string(text) {
			return hit.trees, nil
		}
		trees, err := parseFn(name, text)
		if err != nil {
			return nil, err
		}
		k.mu.Lock()
		if k.trees == nil || k.treeBytes+len(text) > cacheMaxTreeBytes {
			k.trees, k.treeBytes = map[string]*cachedTrees{}, 0
		}
		if old := k.trees[name]; old != nil {
			k.treeBytes -= len(old.text)
		}
		k.trees[name] = &cachedTrees{text: string(text), trees: trees}
		k.treeBytes += len(text)
		k.mu.Unlock()
		return trees, nil
	}
}

// chartShape lists what of c's tree decides how it is prepared.
func chartShape(c *chart.Chart, into []shapeItem) []shapeItem {
	item := shapeItem{chart: c, parent: c.Parent(), meta: c.Metadata, deps: len(c.Dependencies())}
	if c.Metadata != nil {
		item.name, item.kind = c.Metadata.Name, c.Metadata.Type
	}
	into = append(into, item)
	for _, f := range c.Templates {
		it := shapeItem{file: f}
		if f != nil {
			it.name, it.size = f.Name, len(f.Data)
			if len(f.Data) > 0 {
				it.data = &f.Data[0]
			}
		}
		into = append(into, it)
	}
	for _, sub := range c.Dependencies() {
		into = chartShape(sub, into)
	}
	return into
}
