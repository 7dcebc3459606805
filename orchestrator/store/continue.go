package store

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
)

// continueVersion is the first byte of every continue token.
const continueVersion = 1

// continueToken is the decoded form of ListResult.Continue: the revision the
// list is pinned to and the last key returned, relative to the list's
// prefix so that a token can never reach outside it.
type continueToken struct {
	Rev   int64
	Start string
}

// encodeContinue returns the opaque form of t: URL-safe base64 of the
// version byte, the revision as a uvarint and the relative key.
func encodeContinue(t continueToken) string {
	b := make([]byte, 0, 1+binary.MaxVarintLen64+len(t.Start))
	b = append(b, continueVersion)
	b = binary.AppendUvarint(b, uint64(t.Rev))
	b = append(b, t.Start...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeContinue parses a token made by encodeContinue. Any other input
// fails with ErrInvalid.
func decodeContinue(s string) (continueToken, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return continueToken{}, fmt.Errorf("%w: continue token is not base64url: %w", ErrInvalid, err)
	}
	if len(b) < 1 || b[0] != continueVersion {
		return continueToken{}, fmt.Errorf("%w: continue token has an unknown version", ErrInvalid)
	}
	rev, n := binary.Uvarint(b[1:])
	if n <= 0 || rev == 0 || rev > math.MaxInt64 {
		return continueToken{}, fmt.Errorf("%w: continue token has a bad revision", ErrInvalid)
	}
	start := b[1+n:]
	if len(start) == 0 {
		return continueToken{}, fmt.Errorf("%w: continue token has no start key", ErrInvalid)
	}
	return continueToken{Rev: int64(rev), Start: string(start)}, nil
}
