package render

import (
	"errors"
	"fmt"
	"regexp"
)

// maxReleaseNameLen leaves room for suffixes within Kubernetes' 63
// character names, as Helm does.
const maxReleaseNameLen = 53

var releaseNamePattern = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// ErrMissingReleaseName is returned for an empty release name.
var ErrMissingReleaseName = errors.New("no name provided")

// ErrInvalidReleaseName is returned for a release name Helm would refuse;
// its text is Helm's.
var ErrInvalidReleaseName = fmt.Errorf("invalid release name, must match regex %s and the length must not be longer than %d",
	releaseNamePattern.String(), maxReleaseNameLen)

// ValidateReleaseName checks a release name by Helm's rules: a DNS-1123
// subdomain of at most 53 characters.
func ValidateReleaseName(name string) error {
	if name == "" {
		return ErrMissingReleaseName
	}
	if len(name) > maxReleaseNameLen || !releaseNamePattern.MatchString(name) {
		return ErrInvalidReleaseName
	}
	return nil
}
