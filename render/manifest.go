package render

import (
	"strconv"
	"strings"
)

// manifestKeyPrefix starts every key that SplitManifests returns.
const manifestKeyPrefix = "manifest-"

// SplitManifests cuts a stream of YAML documents into its documents, keyed
// "manifest-0", "manifest-1", … in stream order, exactly as Helm's
// releaseutil.SplitManifests does.
//
// A separator is a line that starts with "---", together with the
// whitespace before it and any whitespace after the dashes, even when more
// text follows on that line. The stream is trimmed first; pieces that are
// empty are dropped and the others are trimmed. A piece can still trim to the
// empty string (for instance one made of a vertical tab), and it keeps its
// key then, as in Helm.
func SplitManifests(bigFile string) map[string]string {
	docs := appendManifestDocs(nil, bigFile)
	res := make(map[string]string, len(docs))
	for i, d := range docs {
		res[manifestKeyPrefix+strconv.Itoa(i)] = d
	}
	return res
}

// appendManifestDocs appends the documents of stream to dst in stream order
// and returns the extended slice; the i-th appended document is the one that
// SplitManifests files under "manifest-i".
//
// Helm splits with the regular expression `(?:^|\s*\n)---\s*` over the
// trimmed stream, where \s is the ASCII class [\t\n\f\r ]. A match can only
// begin at the start of the stream or at the start of the whitespace run
// that ends with the newline before "---", and it always swallows all the
// whitespace after the dashes. So the matches can be found with a plain
// search for "\n---", skipping any whose newline an earlier match already
// consumed.
func appendManifestDocs(dst []string, stream string) []string {
	s := strings.TrimSpace(stream)
	piece := 0  // start of the current piece
	resume := 0 // where the next match may start
	if strings.HasPrefix(s, "---") {
		// The separator at position 0 leaves an empty first piece, which is
		// dropped.
		piece = skipSeparatorSpace(s, 3)
		resume = piece
	}
	for {
		i := strings.Index(s[resume:], "\n---")
		if i < 0 {
			break
		}
		nl := resume + i
		start := nl
		for start > resume && isSeparatorSpace(s[start-1]) {
			start--
		}
		dst = appendManifestPiece(dst, s[piece:start])
		piece = skipSeparatorSpace(s, nl+4)
		resume = piece
	}
	return appendManifestPiece(dst, s[piece:])
}

// appendManifestPiece appends one piece between separators: empty pieces
// are dropped, the others trimmed.
func appendManifestPiece(dst []string, piece string) []string {
	if piece == "" {
		return dst
	}
	return append(dst, strings.TrimSpace(piece))
}

// skipSeparatorSpace returns the index of the first byte at or after i that
// is not separator whitespace.
func skipSeparatorSpace(s string, i int) int {
	for i < len(s) && isSeparatorSpace(s[i]) {
		i++
	}
	return i
}

// isSeparatorSpace reports whether c is in the regular expression class \s.
func isSeparatorSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}
