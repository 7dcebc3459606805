package render

import (
	"sync"
	"sync/atomic"
)

// Some template functions are pure but costly: fromYaml and fromJson
// parse their text, semverCompare parses a constraint with regular
// expressions. Charts call them again and again with the same arguments
// (the output of one helper parsed in every manifest, the same
// Kubernetes version check in every template), within a render and
// across renders of a Cache. funcMemo keeps their results by argument.
// Decoded values are handed out as copies (copyValuesTree), since
// templates may change what they get.

// Bounds of a memo: entries, and the longest text kept.
const (
	memoMaxEntries = 1024
	memoMaxText    = 64 << 10
)

// funcMemo is a bounded map from arguments to results, safe for
// concurrent use; once full it keeps what it has.
type funcMemo[K comparable, V any] struct {
	m sync.Map // K -> V
	n atomic.Int64
}

// get returns the result for k, computing and keeping it if needed.
func (m *funcMemo[K, V]) get(k K, compute func() V) V {
	if v, ok := m.m.Load(k); ok {
		return v.(V)
	}
	v := compute()
	if m.n.Load() < memoMaxEntries {
		if _, loaded := m.m.LoadOrStore(k, v); !loaded {
			m.n.Add(1)
		}
	}
	return v
}

// memoDecoder wraps a decoder of text into a values tree (fromYaml,
// fromJson and their array forms) with a memo; each call gets its own
// copy of the result.
func memoDecoder[T map[string]any | []any](decode func(string) T) func(string) T {
	var memo funcMemo[string, T]
	return func(s string) T {
		if len(s) > memoMaxText {
			return decode(s)
		}
		v := memo.get(s, func() T { return decode(s) })
		if c, ok := copyValuesTree(any(v), 0); ok {
			return c.(T)
		}
		return decode(s)
	}
}

// semverResult is what semverCompare returned.
type semverResult struct {
	ok  bool
	err error
}

// memoSemverCompare wraps sprig's semverCompare with a memo.
func memoSemverCompare(compare func(constraint, version string) (bool, error)) func(string, string) (bool, error) {
	var memo funcMemo[[2]string, semverResult]
	return func(constraint, version string) (bool, error) {
		if len(constraint)+len(version) > memoMaxText {
			return compare(constraint, version)
		}
		r := memo.get([2]string{constraint, version}, func() semverResult {
			ok, err := compare(constraint, version)
			return semverResult{ok, err}
		})
		return r.ok, r.err
	}
}
