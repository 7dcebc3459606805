package repo

import (
	"bytes"
	"runtime"
	"sync"
)

// parallelMinBytes is the index size from which the fast decoder splits
// the entries between goroutines.
const parallelMinBytes = 4 << 20

// decodeIndexNodes decodes an index with the fast decoder, in parallel
// for big indexes; see decodeIndexSplit.
func decodeIndexNodes(data []byte) (*IndexFile, bool) {
	return decodeIndexSplit(data, parallelMinBytes, runtime.GOMAXPROCS(0))
}

// decodeIndexSplit cuts the block of entries of an index into chunks of
// whole charts, decodes each chunk as a document of its own on one of
// workers goroutines and merges the results in order, so that the
// outcome is the one of decoding the whole document. Documents of an
// unexpected shape are decoded whole.
func decodeIndexSplit(data []byte, minBytes, workers int) (*IndexFile, bool) {
	if len(data) < minBytes || workers < 2 {
		return decodeIndexDoc(data)
	}
	head, chunks, ok := splitEntries(data, 4*workers)
	if !ok || len(chunks) < 2 {
		return decodeIndexDoc(data)
	}
	idx, ok := decodeIndexDoc(head)
	if !ok || idx.Entries != nil {
		return decodeIndexDoc(data)
	}
	results := make([]*IndexFile, len(chunks))
	oks := make([]bool, len(chunks))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i], oks[i] = decodeIndexDoc(chunks[i])
			}
		}()
	}
	for i := range chunks {
		next <- i
	}
	close(next)
	wg.Wait()
	idx.Entries = map[string]ChartVersions{}
	for i, r := range results {
		if !oks[i] {
			return nil, false
		}
		for k, v := range r.Entries {
			idx.Entries[k] = v
		}
	}
	return idx, true
}

// splitEntries finds the top-level "entries:" block of a block-style
// index and returns the document without it (head) and the block cut
// between charts into about n documents "entries:\n…"; see scanEntries.
func splitEntries(data []byte, n int) (head []byte, chunks [][]byte, ok bool) {
	sc, ok := scanEntries(data)
	if !ok || len(sc.cuts) < 2 {
		return nil, nil, false
	}
	per := (sc.end - sc.body) / n
	chunkStart := sc.cuts[0]
	for _, c := range sc.cuts[1:] {
		if c-chunkStart >= per {
			chunks = append(chunks, entriesDoc(data[chunkStart:c]))
			chunkStart = c
		}
	}
	chunks = append(chunks, entriesDoc(data[chunkStart:sc.end]))
	return sc.head(data), chunks, true
}

// entriesScan locates the parts of an index: the "entries:" line at
// start, the block from body to end, and the offsets of the lines that
// start each chart.
type entriesScan struct {
	start, body, end int
	cuts             []int
}

func (sc entriesScan) head(data []byte) []byte {
	return append(append([]byte{}, data[:sc.start]...), data[sc.end:]...)
}

// segment returns the lines of the chart starting at cut i.
func (sc entriesScan) segment(data []byte, i int) []byte {
	if i+1 < len(sc.cuts) {
		return data[sc.cuts[i]:sc.cuts[i+1]]
	}
	return data[sc.cuts[i]:sc.end]
}

// scanEntries finds the top-level "entries:" block of a block-style
// index and the line where each chart starts. It reports false for
// documents it does not know to cut safely: carriage returns, tabs,
// document markers or directives, an entries line with anything after
// the colon, or lines inside the block that are not at the charts'
// indentation or deeper.
func scanEntries(data []byte) (entriesScan, bool) {
	var sc entriesScan
	if bytes.ContainsAny(data, "\r\t") {
		return sc, false
	}
	sc.start = -1
	if bytes.HasPrefix(data, []byte("entries:\n")) {
		sc.start = 0
	} else if i := bytes.Index(data, []byte("\nentries:\n")); i >= 0 {
		sc.start = i + 1
	}
	if sc.start < 0 {
		return sc, false
	}
	sc.body = sc.start + len("entries:\n")
	indent := -1
	sc.end = len(data)
	for off := sc.body; off < len(data); {
		nl := bytes.IndexByte(data[off:], '\n')
		lineEnd := len(data)
		if nl >= 0 {
			lineEnd = off + nl
		}
		line := data[off:lineEnd]
		trimmed := bytes.TrimLeft(line, " ")
		sp := len(line) - len(trimmed)
		switch {
		case len(trimmed) == 0 || trimmed[0] == '#':
			// blank or comment
		case sp == 0:
			sc.end = off
		case indent < 0 || sp == indent:
			if trimmed[0] == '-' && (len(trimmed) == 1 || trimmed[1] == ' ') {
				// An item of the chart's sequence of versions, which
				// YAML allows at the key's indentation.
				if indent < 0 {
					return sc, false
				}
				break
			}
			if indent < 0 {
				indent = sp
			}
			switch trimmed[0] {
			case '-', '?', '{', '[', '&', '*', '!', '|', '>', '%', '@', '`', ':':
				return sc, false
			}
			sc.cuts = append(sc.cuts, off)
		case sp < indent:
			return sc, false
		}
		if sc.end != len(data) {
			break
		}
		off = lineEnd + 1
	}
	for off := 0; off < len(data); {
		nl := bytes.IndexByte(data[off:], '\n')
		line := data[off:]
		if nl >= 0 {
			line = data[off : off+nl]
		}
		if bytes.HasPrefix(line, []byte("---")) || bytes.HasPrefix(line, []byte("...")) || bytes.HasPrefix(line, []byte("%")) {
			return sc, false
		}
		if nl < 0 {
			break
		}
		off += nl + 1
	}
	return sc, true
}

// decodeIndexChart decodes the head of an index and only the charts whose
// key line mentions name, keeping the entry of name. It reports false
// when the document cannot be cut or the chart is not found that way.
func decodeIndexChart(data []byte, name string) (*IndexFile, bool) {
	sc, ok := scanEntries(data)
	if !ok || name == "" {
		return nil, false
	}
	idx, ok := decodeIndexDoc(sc.head(data))
	if !ok || idx.Entries != nil {
		return nil, false
	}
	var found ChartVersions
	seen := false
	for i, c := range sc.cuts {
		lineEnd := bytes.IndexByte(data[c:], '\n')
		if lineEnd < 0 {
			lineEnd = len(data) - c
		}
		if !bytes.Contains(data[c:c+lineEnd], []byte(name)) {
			continue
		}
		part, ok := decodeIndexDoc(entriesDoc(sc.segment(data, i)))
		if !ok {
			return nil, false
		}
		if vs, ok := part.Entries[name]; ok {
			found, seen = vs, true
		}
	}
	if !seen {
		return nil, false
	}
	idx.Entries = map[string]ChartVersions{name: found}
	return idx, true
}

func entriesDoc(block []byte) []byte {
	doc := make([]byte, 0, len("entries:\n")+len(block))
	doc = append(doc, "entries:\n"...)
	return append(doc, block...)
}
