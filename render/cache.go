package render

import (
	"hash/maphash"
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
// each chart tree it has prepared by its shape: the names and types of its
// charts, how they nest, and the identity of each template file's contents
// (the backing array and length of File.Data). Copies of a tree that share
// its template files, such as the ones Template renders, and a tree that
// is rendered again, reuse one preparation; a tree whose template files or
// subcharts were replaced is prepared again. It also keeps the parse of
// each template file by name and contents, so that a chart loaded again
// is not parsed again. A file's contents must not be changed in place once
// rendered through a Cache; replacing files, templates or subcharts is
// fine.
//
// The zero value is ready to use. A Cache is safe for concurrent use.
type Cache struct {
	mu        sync.Mutex
	funcs     *funcTable
	seed      maphash.Seed
	charts    map[uint64][]*cachedChart
	nCharts   int
	trees     map[string]*cachedTrees
	treeBytes int
	// ahead is the crypto work done ahead for the charts of the cache
	// (see aheadWork), shared by all of them and refilled as it is used.
	ahead *aheadWork
}

// Close stops the background work of the cache: the RSA keys it keeps
// generating ahead for charts whose templates generate keys (see
// Engine.Prepare). The cache remains usable; keys are then generated when
// templates ask for them. Close is not needed for a cache that is dropped:
// its work stops once it is garbage.
func (k *Cache) Close() {
	k.mu.Lock()
	a := k.ahead
	k.mu.Unlock()
	if a != nil {
		a.stop()
	}
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
// tree as it was when prepared: what decides which templates the tree has,
// under which names, and what they hold.
type shapeItem struct {
	// For a chart: its name, type and number of subcharts (the root
	// also has its full path, which prefixes every template name).
	name string
	kind string
	deps int
	path string
	// For a template file: present, and where its contents are.
	file bool
	data *byte
	size int
}

// templates returns the prepared templates of c, from the cache when a
// tree of the same shape was prepared before.
func (k *Cache) templates(c *chart.Chart) (*chartTemplates, error) {
	if c == nil {
		return newChartTemplates(c, nil, nil)
	}
	shape := chartShape(c, nil)
	shape[0].path = c.ChartFullPath()
	k.mu.Lock()
	if k.funcs == nil {
		k.funcs = newFuncTable()
		k.seed = maphash.MakeSeed()
	}
	funcs := k.funcs
	key := shapeHash(k.seed, shape)
	for _, hit := range k.charts[key] {
		if slices.Equal(hit.shape, shape) {
			k.mu.Unlock()
			return hit.templates, nil
		}
	}
	k.mu.Unlock()

	ct, err := newChartTemplates(c, funcs, k.parseFile(funcs))
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	if k.ahead == nil {
		k.ahead = newAheadWork(true)
		stopWhenUnreachable(k, k.ahead)
	}
	ct.ahead = k.ahead
	ct.ahead.start(ct.demand, funcs)
	if k.charts == nil || k.nCharts >= cacheMaxCharts {
		k.charts, k.nCharts = map[uint64][]*cachedChart{}, 0
	}
	k.charts[key] = append(k.charts[key], &cachedChart{shape: shape, templates: ct})
	k.nCharts++
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

// chartShape lists what of c's tree decides how it is prepared, in the
// order the tree is walked.
func chartShape(c *chart.Chart, into []shapeItem) []shapeItem {
	item := shapeItem{deps: len(c.Dependencies())}
	if c.Metadata != nil {
		item.name, item.kind = c.Metadata.Name, c.Metadata.Type
	} else {
		// Not preparable; keep such trees apart from any other.
		item.kind = "\x00no metadata"
	}
	into = append(into, item)
	for _, f := range c.Templates {
		it := shapeItem{}
		if f != nil {
			it.file, it.name, it.size = true, f.Name, len(f.Data)
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

// shapeHash hashes a shape for the cache's index with the cache's seed;
// equal shapes have equal hashes.
func shapeHash(seed maphash.Seed, shape []shapeItem) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	for i := range shape {
		maphash.WriteComparable(&h, shape[i])
	}
	return h.Sum64()
}
