package store

import "strings"

// Transformer encrypts values at rest. Seal and Open receive the object's
// key so an implementation can bind each ciphertext to it. Both must be safe
// for concurrent use.
type Transformer interface {
	// Seal returns the form of plain to store under key.
	Seal(key string, plain []byte) ([]byte, error)
	// Open reverses Seal.
	Open(key string, sealed []byte) ([]byte, error)
}

// sealer decides which values pass through the Transformer.
type sealer struct {
	prefixes []string
	t        Transformer
}

// sealed reports whether values stored under key are encrypted.
func (s sealer) sealed(key string) bool {
	if s.t == nil {
		return false
	}
	for _, p := range s.prefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}
