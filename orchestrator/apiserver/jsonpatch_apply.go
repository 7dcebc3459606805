package apiserver

import (
	"errors"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
)

// applyJSONPatch applies a decoded JSON patch to doc. The patch library
// panics on some malformed operations (a "test" with no value against the
// whole document, for one); such a panic is returned as an error, since
// it is the client's patch that is wrong.
func applyJSONPatch(p jsonpatch.Patch, doc []byte) (out []byte, err error) {
	defer func() {
		if recover() != nil {
			out, err = nil, errors.New("malformed patch operation")
		}
	}()
	return p.Apply(doc)
}
