package repo

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"sigs.k8s.io/yaml"

	"pkg.dev/pkg/chart"
)

// APIVersionV1 is the only index and repositories file apiVersion.
const APIVersionV1 = "v1"

// IndexFile is a repository's index.yaml: every version of every chart the
// repository serves. Entries are kept sorted newest first.
type IndexFile struct {
	ServerInfo  map[string]any           `json:"serverInfo,omitempty"`
	APIVersion  string                   `json:"apiVersion"`
	Generated   time.Time                `json:"generated"`
	Entries     map[string]ChartVersions `json:"entries"`
	PublicKeys  []string                 `json:"publicKeys,omitempty"`
	Annotations map[string]string        `json:"annotations,omitempty"`
}

// ChartVersion is one version of a chart in an index: its Chart.yaml
// metadata plus where to download it and its digest.
type ChartVersion struct {
	*chart.Metadata
	URLs    []string  `json:"urls"`
	Created time.Time `json:"created,omitempty"`
	Removed bool      `json:"removed,omitempty"`
	// Digest is the SHA-256 of the archive, in hex.
	Digest string `json:"digest,omitempty"`

	// The fields below are read and written for compatibility with old
	// indexes only.
	ChecksumDeprecated      string `json:"checksum,omitempty"`
	EngineDeprecated        string `json:"engine,omitempty"`
	TillerVersionDeprecated string `json:"tillerVersion,omitempty"`
	URLDeprecated           string `json:"url,omitempty"`
}

// ChartVersions are the versions of one chart.
type ChartVersions []*ChartVersion

// NewIndexFile returns an empty index generated at now.
func NewIndexFile(now time.Time) *IndexFile {
	return &IndexFile{
		APIVersion: APIVersionV1,
		Generated:  now,
		Entries:    map[string]ChartVersions{},
		PublicKeys: []string{},
	}
}

// SortEntries orders every chart's versions newest first by semantic
// version, as Helm does.
func (i *IndexFile) SortEntries() {
	for _, vs := range i.Entries {
		vs.sort()
	}
}

// sort orders newest first. Versions that do not parse sort last.
func (vs ChartVersions) sort() {
	if len(vs) < 2 {
		return
	}
	type keyed struct {
		v  *semver.Version
		cv *ChartVersion
	}
	ks := make([]keyed, len(vs))
	for n, cv := range vs {
		ks[n].cv = cv
		if cv.Metadata != nil {
			ks[n].v, _ = semver.NewVersion(cv.Version)
		}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int {
		switch {
		case a.v == nil && b.v == nil:
			return 0
		case a.v == nil:
			return 1
		case b.v == nil:
			return -1
		}
		return b.v.Compare(a.v)
	})
	for n := range ks {
		vs[n] = ks[n].cv
	}
}

// Get returns the newest version of the chart name that satisfies the
// constraint version: an exact version string wins, "" means the newest
// stable version. The errors wrap ErrNoChartName or ErrNoChartVersion, or
// report an invalid constraint.
func (i *IndexFile) Get(name, version string) (*ChartVersion, error) {
	vs, ok := i.Entries[name]
	if !ok {
		return nil, ErrNoChartName
	}
	if len(vs) == 0 {
		return nil, ErrNoChartVersion
	}
	constraint := "*"
	if version != "" {
		constraint = version
		for _, cv := range vs {
			if cv.Version == version {
				return cv, nil
			}
		}
	}
	c, err := semver.NewConstraint(constraint)
	if err != nil {
		return nil, fmt.Errorf("invalid version constraint %q: %w", version, err)
	}
	for _, cv := range vs {
		v, err := semver.NewVersion(cv.Version)
		if err != nil {
			continue
		}
		if c.Check(v) {
			return cv, nil
		}
	}
	return nil, fmt.Errorf("%w for %s-%s", ErrNoChartVersion, name, version)
}

// Has reports whether the index holds the chart name at exactly version
// (or at a version satisfying it, when version is a constraint).
func (i *IndexFile) Has(name, version string) bool {
	_, err := i.Get(name, version)
	return err == nil
}

// Add records a chart archive: md is its metadata, filename its file name
// (joined to baseURL when that is not empty) and digest its SHA-256.
func (i *IndexFile) Add(md *chart.Metadata, filename, baseURL, digest string, created time.Time) error {
	if i.Entries == nil {
		i.Entries = map[string]ChartVersions{}
	}
	if md.APIVersion == "" {
		md.APIVersion = chart.APIVersionV1
	}
	if err := md.Validate(); err != nil {
		return fmt.Errorf("validate failed for %s: %w", filename, err)
	}
	u := filename
	if baseURL != "" {
		u = joinURL(baseURL, path.Base(filename))
	}
	i.Entries[md.Name] = append(i.Entries[md.Name], &ChartVersion{
		Metadata: md,
		URLs:     []string{u},
		Digest:   digest,
		Created:  created,
	})
	return nil
}

// Merge adds the versions of f that i does not hold yet; i's own versions
// win.
func (i *IndexFile) Merge(f *IndexFile) {
	if i.Entries == nil {
		i.Entries = map[string]ChartVersions{}
	}
	for _, vs := range f.Entries {
		for _, cv := range vs {
			if cv == nil || cv.Metadata == nil {
				continue
			}
			if !i.Has(cv.Name, cv.Version) {
				i.Entries[cv.Name] = append(i.Entries[cv.Name], cv)
			}
		}
	}
}

// Marshal encodes the index as YAML the way Helm writes index.yaml.
func (i *IndexFile) Marshal() ([]byte, error) { return yaml.Marshal(i) }

// MarshalJSONIndent encodes the index as indented JSON, as
// `helm repo index --json` writes it.
func (i *IndexFile) MarshalJSONIndent() ([]byte, error) { return json.MarshalIndent(i, "", "  ") }

// WriteFile writes the index atomically to dest as YAML, or as JSON when
// asJSON is set.
func (i *IndexFile) WriteFile(dest string, perm fs.FileMode, asJSON bool) error {
	marshal := i.Marshal
	if asJSON {
		marshal = i.MarshalJSONIndent
	}
	b, err := marshal()
	if err != nil {
		return fmt.Errorf("encoding index %s: %w", dest, err)
	}
	if err := writeFileAtomic(dest, b, perm); err != nil {
		return fmt.Errorf("writing index %s: %w", dest, err)
	}
	return nil
}

// ResolveURL makes ref absolute against the repository URL base, as Helm
// does: the base is treated as a directory and its query is kept.
func ResolveURL(base, ref string) (string, error) {
	r, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("failed to parse %s as URL: %w", ref, err)
	}
	if r.IsAbs() {
		return ref, nil
	}
	b, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("failed to parse %s as URL: %w", base, err)
	}
	b.RawPath = strings.TrimSuffix(b.RawPath, "/") + "/"
	b.Path = strings.TrimSuffix(b.Path, "/") + "/"
	u := b.ResolveReference(r)
	u.RawQuery = b.RawQuery
	return u.String(), nil
}

// joinURL appends elem to the path of base, falling back to a plain path
// join when base is not a URL.
func joinURL(base, elem string) string {
	u, err := url.Parse(base)
	if err != nil {
		return path.Join(base, elem)
	}
	u.Path = path.Join(u.Path, elem)
	return u.String()
}
