package repo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/memory"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"

	"pkg.dev/pkg/chart"
)

// Helm's OCI media types.
const (
	OCIConfigMediaType     = "application/vnd.cncf.helm.config.v1+json"
	OCIChartLayerMediaType = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
	OCIProvLayerMediaType  = "application/vnd.cncf.helm.chart.provenance.v1.prov"
	// OCILegacyChartLayerMediaType is what charts pushed by Helm 3.0-3.6
	// use for their content layer.
	OCILegacyChartLayerMediaType = "application/tar+gzip"
	// OCIScheme prefixes registry references.
	OCIScheme = "oci"
)

// OCI is access to OCI registries holding charts the way Helm stores
// them: one manifest per chart version tagged with the version ("+"
// written "_"), the chart metadata as JSON config and the archive as a
// layer.
type OCI struct {
	// Client is the HTTP client; nil means a new zero http.Client.
	Client *http.Client
	// Credentials are the stored logins (Docker's config.json format,
	// with credential helpers), or nil for anonymous access.
	Credentials credentials.Store
	// Username and Password, when either is set, are used for the
	// registry instead of the stored logins (--username, --password).
	Username, Password string
	// PlainHTTP talks HTTP instead of HTTPS.
	PlainHTTP bool
	// UserAgent is sent with every request when not empty.
	UserAgent string
	// Progress, when set, follows the transfer of chart layers: it is
	// called as a layer is pulled or pushed with the reference
	// (HOST/PATH/NAME:TAG), the bytes moved so far and the layer's size,
	// and a last time with done set.
	Progress func(ref string, moved, total int64, done bool)
}

// IsOCI reports an oci:// reference.
func IsOCI(ref string) bool { return strings.HasPrefix(ref, OCIScheme+"://") }

func (o *OCI) authClient() *auth.Client {
	base := o.Client
	if base == nil {
		base = &http.Client{}
	}
	c := &auth.Client{Client: base, Cache: auth.NewCache()}
	switch {
	case o.Username != "" || o.Password != "":
		basic := auth.Credential{Username: o.Username, Password: o.Password}
		c.Credential = func(context.Context, string) (auth.Credential, error) { return basic, nil }
	case o.Credentials != nil:
		c.Credential = credentials.Credential(o.Credentials)
	}
	if o.UserAgent != "" {
		c.SetUserAgent(o.UserAgent)
	}
	return c
}

func (o *OCI) repository(ref string) (*remote.Repository, error) {
	r, err := remote.NewRepository(ref)
	if err != nil {
		return nil, err
	}
	r.PlainHTTP = o.PlainHTTP
	r.Client = o.authClient()
	return r, nil
}

// Login checks the credentials against the registry host and stores them.
func (o *OCI) Login(ctx context.Context, host, username, password string) error {
	if o.Credentials == nil {
		return errors.New("no credentials store configured")
	}
	reg, err := remote.NewRegistry(host)
	if err != nil {
		return err
	}
	reg.PlainHTTP = o.PlainHTTP
	reg.Client = o.authClient()
	return credentials.Login(ctx, o.Credentials, reg, auth.Credential{Username: username, Password: password})
}

// Logout removes the stored credentials of host.
func (o *OCI) Logout(ctx context.Context, host string) error {
	if o.Credentials == nil {
		return errors.New("no credentials store configured")
	}
	return credentials.Logout(ctx, o.Credentials, host)
}

// OCIPush is the outcome of a push.
type OCIPush struct {
	Ref            string // HOST/PATH/NAME:TAG
	ManifestDigest string
	ChartDigest    string
}

// Push uploads the chart archive to dest ("oci://HOST/PATH"), as
// HOST/PATH/NAME:VERSION, with Helm's manifest layout and annotations.
// prov, when not nil, is the archive's provenance file, pushed as a
// second layer of Helm's provenance media type (the layers in digest
// order, as Helm writes them).
func (o *OCI) Push(ctx context.Context, archive, prov []byte, dest string, created time.Time) (*OCIPush, error) {
	c, err := chart.LoadArchive(bytes.NewReader(archive))
	if err != nil {
		return nil, fmt.Errorf("pushing to %s: %w", dest, err)
	}
	meta := c.Metadata
	base := strings.TrimSuffix(strings.TrimPrefix(dest, OCIScheme+"://"), "/")
	tag := strings.ReplaceAll(meta.Version, "+", "_")
	ref := base + "/" + meta.Name + ":" + tag
	fail := func(err error) (*OCIPush, error) {
		return nil, &Error{Op: "pushing chart", URL: ref, Chart: meta.Name, Err: err}
	}
	store := memory.New()
	layer, err := oras.PushBytes(ctx, store, OCIChartLayerMediaType, archive)
	if err != nil {
		return fail(err)
	}
	layers := []ocispec.Descriptor{layer}
	if prov != nil {
		pl, err := oras.PushBytes(ctx, store, OCIProvLayerMediaType, prov)
		if err != nil {
			return fail(err)
		}
		layers = append(layers, pl)
		sort.Slice(layers, func(i, j int) bool { return layers[i].Digest < layers[j].Digest })
	}
	cfgData, err := json.Marshal(meta)
	if err != nil {
		return fail(err)
	}
	cfg, err := oras.PushBytes(ctx, store, OCIConfigMediaType, cfgData)
	if err != nil {
		return fail(err)
	}
	manifest := ocispec.Manifest{
		Versioned:   specs.Versioned{SchemaVersion: 2},
		Config:      cfg,
		Layers:      layers,
		Annotations: ociAnnotations(meta, created),
	}
	mdata, err := json.Marshal(manifest)
	if err != nil {
		return fail(err)
	}
	mdesc, err := oras.TagBytes(ctx, store, ocispec.MediaTypeImageManifest, mdata, ref)
	if err != nil {
		return fail(err)
	}
	repo, err := o.repository(ref)
	if err != nil {
		return fail(err)
	}
	ctx = auth.AppendRepositoryScope(ctx, repo.Reference, auth.ActionPull, auth.ActionPush)
	var src oras.ReadOnlyTarget = store
	if o.Progress != nil {
		src = &progressSource{ReadOnlyTarget: store, ref: ref, report: o.Progress, layer: layer.Digest}
	}
	if _, err := oras.Copy(ctx, src, ref, repo, tag, oras.DefaultCopyOptions); err != nil {
		return fail(err)
	}
	return &OCIPush{Ref: ref, ManifestDigest: mdesc.Digest.String(), ChartDigest: layer.Digest.String()}, nil
}

// ociAnnotations are Helm's manifest annotations for a chart.
func ociAnnotations(meta *chart.Metadata, created time.Time) map[string]string {
	a := map[string]string{}
	set := func(k, v string) {
		if v != "" {
			a[k] = v
		}
	}
	set(ocispec.AnnotationDescription, meta.Description)
	set(ocispec.AnnotationTitle, meta.Name)
	set(ocispec.AnnotationVersion, meta.Version)
	set(ocispec.AnnotationURL, meta.Home)
	set(ocispec.AnnotationCreated, created.UTC().Format(time.RFC3339))
	if len(meta.Sources) > 0 {
		set(ocispec.AnnotationSource, meta.Sources[0])
	}
	if len(meta.Maintainers) > 0 {
		var b strings.Builder
		for i, m := range meta.Maintainers {
			b.WriteString(m.Name)
			if m.Email != "" {
				b.WriteString(" (" + m.Email + ")")
			}
			if i < len(meta.Maintainers)-1 {
				b.WriteString(", ")
			}
		}
		set(ocispec.AnnotationAuthors, b.String())
	}
	immutable := []string{ocispec.AnnotationVersion, ocispec.AnnotationTitle}
	for k, v := range meta.Annotations {
		if !slices.Contains(immutable, k) {
			a[k] = v
		}
	}
	return a
}

// OCIPull is a pulled chart.
type OCIPull struct {
	Data []byte
	// Prov is the provenance file, when it was asked for.
	Prov []byte
	// Ref is HOST/PATH/NAME:TAG (or @DIGEST when pulled by digest).
	Ref            string
	ManifestDigest string
	Name, Version  string
}

// maxProvBytes bounds the provenance layer a pull reads.
const maxProvBytes = 1 << 20

// FileName is the name Helm saves a pulled chart as: NAME-VERSION.tgz,
// the name its provenance file records.
func (p *OCIPull) FileName() string { return p.Name + "-" + p.Version + ".tgz" }

// Pull downloads the chart at ref ("oci://HOST/PATH/NAME", optionally
// with ":TAG" or "@sha256:…"). Without a tag or digest, version picks the
// tag: an exact version, or the newest tag satisfying a constraint (""
// means the newest stable version). The layers are verified against their
// digests and the archive must load as a chart.
func (o *OCI) Pull(ctx context.Context, ref, version string) (*OCIPull, error) {
	return o.pull(ctx, ref, version, false)
}

// PullProvenance is Pull that also downloads the provenance layer into
// OCIPull.Prov, which stays nil when the manifest has none (see
// ErrNoProvenanceLayer).
func (o *OCI) PullProvenance(ctx context.Context, ref, version string) (*OCIPull, error) {
	return o.pull(ctx, ref, version, true)
}

func (o *OCI) pull(ctx context.Context, ref, version string, withProv bool) (*OCIPull, error) {
	name := strings.TrimPrefix(ref, OCIScheme+"://")
	repoRef, tagOrDigest := splitOCIRef(name)
	fail := func(err error) (*OCIPull, error) {
		return nil, &Error{Op: "pulling chart", URL: ref, Err: err}
	}
	repo, err := o.repository(repoRef)
	if err != nil {
		return fail(err)
	}
	if tagOrDigest == "" {
		tag, err := o.pickTag(ctx, repo, version)
		if err != nil {
			return fail(err)
		}
		tagOrDigest = tag
	}
	sep := ":"
	if strings.HasPrefix(tagOrDigest, "sha256:") {
		sep = "@"
	}
	pulledRef := repoRef + sep + tagOrDigest
	desc, rc, err := repo.FetchReference(ctx, tagOrDigest)
	if err != nil {
		return fail(err)
	}
	mdata, err := content.ReadAll(rc, desc)
	rc.Close()
	if err != nil {
		return fail(err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(mdata, &m); err != nil {
		return fail(fmt.Errorf("the manifest is not an OCI image manifest: %w", err))
	}
	var layer, provLayer *ocispec.Descriptor
	for i, l := range m.Layers {
		switch l.MediaType {
		case OCIChartLayerMediaType, OCILegacyChartLayerMediaType:
			if layer == nil {
				layer = &m.Layers[i]
			}
		case OCIProvLayerMediaType:
			if provLayer == nil {
				provLayer = &m.Layers[i]
			}
		}
	}
	if layer == nil {
		return fail(fmt.Errorf("manifest does not contain a layer with mediatype %s", OCIChartLayerMediaType))
	}
	data, err := o.fetchLayer(ctx, repo, *layer, pulledRef)
	if err != nil {
		return fail(err)
	}
	c, err := chart.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return fail(fmt.Errorf("the download is not a valid chart archive: %w", err))
	}
	p := &OCIPull{Data: data, Ref: pulledRef, ManifestDigest: desc.Digest.String(), Name: c.Name(), Version: c.Metadata.Version}
	if withProv && provLayer != nil {
		if provLayer.Size > maxProvBytes {
			return fail(fmt.Errorf("the provenance layer is %d bytes: %w (provenance files are a few KB)", provLayer.Size, ErrTooLarge))
		}
		if p.Prov, err = o.fetchLayer(ctx, repo, *provLayer, ""); err != nil {
			return fail(fmt.Errorf("fetching the provenance layer: %w", err))
		}
	}
	return p, nil
}

// fetchLayer reads a layer, checking its size and digest, and reports
// the progress under ref when ref is set.
func (o *OCI) fetchLayer(ctx context.Context, repo *remote.Repository, desc ocispec.Descriptor, ref string) ([]byte, error) {
	if desc.Size > DefaultMaxResponseBytes {
		return nil, ErrTooLarge
	}
	rc, err := repo.Blobs().Fetch(ctx, desc)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var r io.Reader = rc
	if o.Progress != nil && ref != "" {
		pr := &progressReader{r: rc, report: func(n int64) { o.Progress(ref, n, desc.Size, false) }}
		r = pr
		defer func() { o.Progress(ref, pr.n, desc.Size, true) }()
	}
	return content.ReadAll(r, desc)
}

// progressSource is the local copy of a chart being pushed, reporting how
// much of the chart layer the push has read.
type progressSource struct {
	oras.ReadOnlyTarget
	ref    string
	layer  digest.Digest
	report func(ref string, moved, total int64, done bool)
}

// Fetch wraps the chart layer's reader to report its progress.
func (s *progressSource) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	rc, err := s.ReadOnlyTarget.Fetch(ctx, desc)
	if err != nil || desc.Digest != s.layer {
		return rc, err
	}
	pr := &progressReader{r: rc, report: func(n int64) { s.report(s.ref, n, desc.Size, false) }}
	return &progressReadCloser{progressReader: pr, closer: rc, done: func() { s.report(s.ref, pr.n, desc.Size, true) }}, nil
}

// progressReadCloser closes a reported reader, reporting the end once.
type progressReadCloser struct {
	*progressReader
	closer io.Closer
	done   func()
	once   sync.Once
}

func (p *progressReadCloser) Close() error {
	p.once.Do(p.done)
	return p.closer.Close()
}

// splitOCIRef splits "HOST/PATH/NAME:TAG" or "…@DIGEST" into the
// repository and the tag or digest ("" when there is neither). A port
// after the host is not a tag.
func splitOCIRef(s string) (repo, tagOrDigest string) {
	if i := strings.Index(s, "@"); i >= 0 {
		return s[:i], s[i+1:]
	}
	slash := strings.LastIndex(s, "/")
	if i := strings.LastIndex(s, ":"); i > slash && slash >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// Tags lists the tags of the repository ref ("oci://HOST/PATH/NAME") that
// are semantic versions, newest first, as versions ("_" read as "+").
func (o *OCI) Tags(ctx context.Context, ref string) ([]string, error) {
	repoRef, _ := splitOCIRef(strings.TrimPrefix(ref, OCIScheme+"://"))
	repo, err := o.repository(repoRef)
	if err != nil {
		return nil, err
	}
	var tags []string
	err = repo.Tags(ctx, "", func(ts []string) error {
		tags = append(tags, ts...)
		return nil
	})
	if err != nil {
		return nil, &Error{Op: "listing tags", URL: ref, Err: err}
	}
	type tv struct {
		s string
		v *semver.Version
	}
	var vs []tv
	for _, t := range tags {
		s := strings.ReplaceAll(t, "_", "+")
		if v, err := semver.StrictNewVersion(s); err == nil {
			vs = append(vs, tv{s, v})
		}
	}
	sort.SliceStable(vs, func(i, j int) bool { return vs[i].v.GreaterThan(vs[j].v) })
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.s
	}
	return out, nil
}

// pickTag resolves version to a tag of repo: an exact version is used as
// is; a constraint (or "") picks the newest matching tag.
func (o *OCI) pickTag(ctx context.Context, repo *remote.Repository, version string) (string, error) {
	if version != "" {
		if _, err := semver.StrictNewVersion(version); err == nil {
			return strings.ReplaceAll(version, "+", "_"), nil
		}
	}
	constraint := version
	if constraint == "" {
		constraint = "*"
	}
	c, err := semver.NewConstraint(constraint)
	if err != nil {
		return "", fmt.Errorf("invalid version constraint %q: %w", version, err)
	}
	tags, err := o.Tags(ctx, "oci://"+repo.Reference.String())
	if err != nil {
		return "", err
	}
	for _, t := range tags {
		v, _ := semver.NewVersion(t)
		if c.Check(v) {
			return strings.ReplaceAll(t, "+", "_"), nil
		}
	}
	return "", fmt.Errorf("%w: no tag of %s matches %q", ErrNoChartVersion, repo.Reference.String(), version)
}
