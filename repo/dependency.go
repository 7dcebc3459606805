package repo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/ProtonMail/go-crypto/openpgp"
	"sigs.k8s.io/yaml"

	"pkg.dev/pkg/chart"
)

// LockDigest is the digest Chart.lock records for the dependencies req
// of Chart.yaml resolved to lock: "sha256:" and the SHA-256 of the JSON
// array [req, lock], as Helm computes it.
func LockDigest(req, lock []*chart.Dependency) (string, error) {
	b, err := json.Marshal([2][]*chart.Dependency{req, lock})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// Dependencies resolves and fetches the dependencies of an unpacked chart
// into its charts/ directory, as `helm dependency update|build` do, from
// file:// paths, HTTP repositories and OCI registries.
type Dependencies struct {
	// ChartDir is the chart's directory.
	ChartDir string
	Fetcher  *Fetcher
	// Repositories is the repositories file: a dependency's repository is
	// matched by URL, or named "@NAME" or "alias:NAME".
	Repositories *File
	Cache        Cache
	// OCI fetches dependencies whose repository is oci://; nil refuses
	// them.
	OCI *OCI
	// SkipRefresh uses the cached indexes as they are.
	SkipRefresh bool
	// Verify downloads the provenance file of every chart fetched from a
	// repository or registry and checks it with Keyring before the
	// archive goes into charts/, as Helm's --verify does (the .prov files
	// are not kept there, as in Helm). Charts packaged from file://
	// directories are not signed and not checked.
	Verify  bool
	Keyring openpgp.EntityList
	// Now stamps a new Chart.lock.
	Now time.Time
	// Log receives progress lines (Helm's wording); may be nil.
	Log func(string)
	// Warn receives warnings about skipped index entries; may be nil.
	Warn func(string)
}

func (d *Dependencies) log(format string, a ...any) {
	if d.Log != nil {
		d.Log(fmt.Sprintf(format, a...))
	}
}

// depSource is where one dependency comes from.
type depSource struct {
	entry *Entry // configured or ad-hoc repository; nil for file:// and ""
	index *IndexFile
}

func (d *Dependencies) load() (*chart.Chart, error) {
	fi, err := os.Stat(d.ChartDir)
	if err != nil {
		return nil, fmt.Errorf("could not find %s: %w", d.ChartDir, err)
	}
	if !fi.IsDir() {
		return nil, errors.New("only unpacked charts can be updated")
	}
	return chart.LoadDir(d.ChartDir)
}

// Update resolves every dependency of Chart.yaml to the newest version
// its constraint allows, fetches them all into charts/ and writes
// Chart.lock (unless the lock already records the same resolution). It
// returns the lock. Nothing in charts/ changes unless every dependency
// was fetched.
func (d *Dependencies) Update(ctx context.Context) (*chart.Lock, error) {
	c, err := d.load()
	if err != nil {
		return nil, err
	}
	req := c.Metadata.Dependencies
	if req == nil {
		return nil, nil
	}
	d.expandAliases(req)
	adhoc, err := d.fetchAdhoc(ctx, req)
	if err != nil {
		return nil, err
	}
	d.refresh(ctx)
	sources, err := d.sources(req, adhoc)
	if err != nil {
		return nil, err
	}
	lock, err := d.resolve(ctx, req, sources)
	if err != nil {
		return nil, err
	}
	if err := d.fetchAll(ctx, lock.Dependencies, sources); err != nil {
		return nil, err
	}
	if c.Lock != nil && c.Lock.Digest == lock.Digest {
		return c.Lock, nil
	}
	return lock, writeLock(d.ChartDir, lock, c.Metadata.APIVersion == chart.APIVersionV1)
}

// Build fetches exactly the versions Chart.lock records into charts/. It
// fails with ErrLockOutOfSync when the lock does not match Chart.yaml,
// and runs Update when there is no lock.
func (d *Dependencies) Build(ctx context.Context) (*chart.Lock, error) {
	c, err := d.load()
	if err != nil {
		return nil, err
	}
	if c.Lock == nil {
		return d.Update(ctx)
	}
	req := c.Metadata.Dependencies
	d.expandAliases(req)
	if sum, err := LockDigest(req, c.Lock.Dependencies); err != nil || sum != c.Lock.Digest {
		if c.Metadata.APIVersion == chart.APIVersionV1 {
			return nil, errors.New("the lock file (requirements.lock) is out of sync with the dependencies file (requirements.yaml). Please update the dependencies")
		}
		return nil, ErrLockOutOfSync
	}
	if err := d.checkConfigured(c.Lock.Dependencies); err != nil {
		return nil, err
	}
	d.refresh(ctx)
	sources, err := d.sources(c.Lock.Dependencies, nil)
	if err != nil {
		return nil, err
	}
	locked := make([]*chart.Dependency, len(c.Lock.Dependencies))
	for i, dep := range c.Lock.Dependencies {
		cp := *dep
		locked[i] = &cp
	}
	return c.Lock, d.fetchAll(ctx, locked, sources)
}

// sources finds the repository of every dependency and loads its index
// from the cache.
// Repositories that are not configured must be in adhoc (see
// fetchAdhoc); update fetches them, build does not, as in Helm.
func (d *Dependencies) sources(deps []*chart.Dependency, adhoc map[string]*IndexFile) (map[string]*depSource, error) {
	out := map[string]*depSource{}
	var missing []string
	loaded := map[string]*IndexFile{}
	for _, dep := range deps {
		r := dep.Repository
		switch {
		case r == "":
			continue
		case strings.HasPrefix(r, "file://"):
			if _, err := localDependencyPath(r, d.ChartDir); err != nil {
				return nil, err
			}
			continue
		case IsOCI(r):
			if d.OCI == nil {
				return nil, fmt.Errorf("dependency %q: no registry access for %s", dep.Name, r)
			}
			continue
		}
		e := d.configured(r)
		if e == nil {
			if _, err := url.ParseRequestURI(r); err != nil {
				missing = append(missing, r)
				continue
			}
			idx, ok := adhoc[r]
			if !ok {
				missing = append(missing, r)
				continue
			}
			out[dep.Name] = &depSource{entry: &Entry{URL: r}, index: idx}
			continue
		}
		idx, ok := loaded[e.Name]
		if !ok {
			var err error
			idx, err = d.Cache.LoadIndex(e.Name, d.Warn)
			if err != nil {
				return nil, fmt.Errorf("no cached repository for %s found. (try 'pkg repo update'): %w", e.Name, err)
			}
			loaded[e.Name] = idx
		}
		out[dep.Name] = &depSource{entry: e, index: idx}
	}
	if len(missing) > 0 {
		msg := "no repository definition for " + strings.Join(missing, ", ")
		if adhoc != nil {
			msg += ". Please add them via 'pkg repo add'"
		}
		return nil, errors.New(msg)
	}
	return out, nil
}

// refresh updates the cached index of every configured repository, as
// Helm does before resolving, reporting each outcome; failures are
// reported and otherwise ignored (the cached index is used).
func (d *Dependencies) refresh(ctx context.Context) {
	if d.SkipRefresh || d.Repositories == nil {
		return
	}
	var entries []*Entry
	for _, e := range d.Repositories.Repositories {
		if e != nil {
			entries = append(entries, e)
		}
	}
	if len(entries) == 0 {
		return
	}
	d.log("Hang tight while we grab the latest from your chart repositories...")
	errs := make([]error, len(entries))
	var wg sync.WaitGroup
	for i, e := range entries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = d.Fetcher.Update(ctx, e, d.Cache, d.Warn)
		}()
	}
	wg.Wait()
	for i, e := range entries {
		if errs[i] != nil {
			d.log("...Unable to get an update from the %q chart repository (%s):\n\t%s", e.Name, e.URL, errs[i])
		} else {
			d.log("...Successfully got an update from the %q chart repository", e.Name)
		}
	}
	d.log("Update Complete. ⎈Happy Helming!⎈")
}

// ociVersion picks the version of an OCI dependency: an exact version as
// is (as Helm does), else the newest tag satisfying the constraint, or ""
// when none does.
func (d *Dependencies) ociVersion(ctx context.Context, dep *chart.Dependency, c *semver.Constraints) (string, error) {
	if v, err := semver.NewVersion(dep.Version); err == nil {
		return v.Original(), nil
	}
	ref := strings.TrimSuffix(dep.Repository, "/") + "/" + dep.Name
	tags, err := d.OCI.Tags(ctx, ref)
	if err != nil {
		return "", fmt.Errorf("could not retrieve list of tags for repository %s: %w", dep.Repository, err)
	}
	for _, t := range tags {
		if v, err := semver.NewVersion(t); err == nil && c.Check(v) {
			return t, nil
		}
	}
	return "", nil
}

// expandAliases replaces "@NAME" and "alias:NAME" repositories by the
// configured repository's URL, in place, before the lock digest is
// computed: Helm hashes the dependencies that way.
func (d *Dependencies) expandAliases(req []*chart.Dependency) {
	for _, dep := range req {
		if strings.HasPrefix(dep.Repository, "@") || strings.HasPrefix(dep.Repository, "alias:") {
			if e := d.configured(dep.Repository); e != nil {
				dep.Repository = e.URL
			}
		}
	}
}

// fetchAdhoc downloads the indexes of the HTTP repositories dependencies
// name that are not configured (Helm's "unmanaged" repositories), keyed
// by URL. They are kept in memory, not cached.
func (d *Dependencies) fetchAdhoc(ctx context.Context, req []*chart.Dependency) (map[string]*IndexFile, error) {
	out := map[string]*IndexFile{}
	var urls []string
	for _, dep := range req {
		r := dep.Repository
		if r == "" || strings.HasPrefix(r, "file://") || strings.HasPrefix(r, "oci://") || d.configured(r) != nil {
			continue
		}
		if _, seen := out[r]; seen {
			continue
		}
		if _, err := url.ParseRequestURI(r); err != nil {
			continue // reported by sources
		}
		out[r] = nil
		urls = append(urls, r)
	}
	if len(urls) == 0 {
		return out, nil
	}
	d.log("Getting updates for unmanaged Helm repositories...")
	for _, r := range urls {
		_, idx, err := d.Fetcher.FetchIndex(ctx, &Entry{URL: r}, d.Warn)
		if err != nil {
			d.log("...Unable to get an update from the %q chart repository:\n\t%s", r, err)
			return nil, err
		}
		d.log("...Successfully got an update from the %q chart repository", r)
		out[r] = idx
	}
	return out, nil
}

// checkConfigured requires every HTTP repository of deps to be
// configured, as `helm dependency build` does.
func (d *Dependencies) checkConfigured(deps []*chart.Dependency) error {
	var missing []string
	for _, dep := range deps {
		r := dep.Repository
		if r == "" || strings.HasPrefix(r, "file://") || strings.HasPrefix(r, "oci://") || d.configured(r) != nil {
			continue
		}
		missing = append(missing, r)
	}
	if len(missing) > 0 {
		return fmt.Errorf("no repository definition for %s. Please add the missing repos via 'pkg repo add'", strings.Join(missing, ", "))
	}
	return nil
}

// configured is the configured repository a dependency's repository
// field names: "@NAME", "alias:NAME" or the repository's URL.
func (d *Dependencies) configured(r string) *Entry {
	if d.Repositories == nil {
		return nil
	}
	name, alias := strings.CutPrefix(r, "@")
	if !alias {
		name, alias = strings.CutPrefix(r, "alias:")
	}
	for _, e := range d.Repositories.Repositories {
		if e == nil {
			continue
		}
		if alias && e.Name == name {
			return e
		}
		if !alias && sameURL(e.URL, r) {
			return e
		}
	}
	return nil
}

func sameURL(a, b string) bool {
	return strings.TrimSuffix(a, "/") == strings.TrimSuffix(b, "/")
}

// resolve picks a version for every dependency, as Helm's resolver does.
//
// Beyond Helm, a dependency on an OCI registry may use a version range:
// the registry's tags are listed and the newest match is locked.
func (d *Dependencies) resolve(ctx context.Context, req []*chart.Dependency, sources map[string]*depSource) (*chart.Lock, error) {
	locked := make([]*chart.Dependency, len(req))
	var missing []string
	for i, dep := range req {
		constraint, err := semver.NewConstraint(dep.Version)
		if err != nil {
			return nil, fmt.Errorf("dependency %q has an invalid version/constraint format: %w", dep.Name, err)
		}
		switch {
		case dep.Repository == "":
			if _, err := localDependencyPath(filepath.Join("charts", dep.Name), d.ChartDir); err != nil {
				return nil, err
			}
			locked[i] = &chart.Dependency{Name: dep.Name, Version: dep.Version}
			continue
		case strings.HasPrefix(dep.Repository, "file://"):
			dir, err := localDependencyPath(dep.Repository, d.ChartDir)
			if err != nil {
				return nil, err
			}
			ch, err := chart.LoadDir(dir)
			if err != nil {
				return nil, err
			}
			v, err := semver.NewVersion(ch.Metadata.Version)
			if err != nil || !constraint.Check(v) {
				missing = append(missing, fmt.Sprintf("%q (repository %q, version %q)", dep.Name, dep.Repository, dep.Version))
				continue
			}
			locked[i] = &chart.Dependency{Name: dep.Name, Repository: dep.Repository, Version: ch.Metadata.Version}
			continue
		}
		if IsOCI(dep.Repository) {
			v, err := d.ociVersion(ctx, dep, constraint)
			if err != nil {
				return nil, err
			}
			if v == "" {
				missing = append(missing, fmt.Sprintf("%q (repository %q, version %q)", dep.Name, dep.Repository, dep.Version))
				continue
			}
			locked[i] = &chart.Dependency{Name: dep.Name, Repository: dep.Repository, Version: v}
			continue
		}
		src := sources[dep.Name]
		vs, ok := src.index.Entries[dep.Name]
		if !ok {
			return nil, fmt.Errorf("%s chart not found in repo %s", dep.Name, dep.Repository)
		}
		locked[i] = &chart.Dependency{Name: dep.Name, Repository: dep.Repository}
		found := false
		for _, cv := range vs {
			v, err := semver.NewVersion(cv.Version)
			if err != nil || len(cv.URLs) == 0 {
				continue
			}
			if constraint.Check(v) {
				locked[i].Version = v.Original()
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, fmt.Sprintf("%q (repository %q, version %q)", dep.Name, dep.Repository, dep.Version))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("can't get a valid version for %d subchart(s): %s. Make sure a matching chart version exists in the repo, or change the version constraint in Chart.yaml", len(missing), strings.Join(missing, ", "))
	}
	digest, err := LockDigest(req, locked)
	if err != nil {
		return nil, err
	}
	return &chart.Lock{Generated: d.Now, Digest: digest, Dependencies: locked}, nil
}

// fetchAll downloads or packages every locked dependency into a temporary
// directory beside charts/, and only when all succeeded moves them into
// charts/ and deletes the archives they replace.
func (d *Dependencies) fetchAll(ctx context.Context, deps []*chart.Dependency, sources map[string]*depSource) error {
	dest := filepath.Join(d.ChartDir, "charts")
	if fi, err := os.Stat(dest); err == nil && !fi.IsDir() {
		return fmt.Errorf("%q is not a directory", dest)
	}
	tmp, err := os.MkdirTemp(d.ChartDir, "tmpcharts-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	d.log("Saving %d charts", len(deps))
	seen := map[string]bool{}
	for _, dep := range deps {
		switch {
		case dep.Repository == "":
			d.log("Dependency %s did not declare a repository. Assuming it exists in the charts directory", dep.Name)
			if err := checkUnpackedDependency(dest, dep); err != nil {
				return err
			}
			continue
		case strings.HasPrefix(dep.Repository, "file://"):
			if err := packageLocalDependency(d.ChartDir, dep, tmp); err != nil {
				return err
			}
			continue
		}
		if IsOCI(dep.Repository) {
			ref := strings.TrimSuffix(dep.Repository, "/") + "/" + dep.Name
			d.log("Downloading %s from repo %s", dep.Name, dep.Repository)
			pull := d.OCI.Pull
			if d.Verify {
				pull = d.OCI.PullProvenance
			}
			p, err := pull(ctx, ref, dep.Version)
			if err == nil && d.Verify && p.Prov == nil {
				err = fmt.Errorf("failed to fetch provenance %q: %w", "oci://"+p.Ref+".prov", ErrNoProvenanceLayer)
			}
			if err != nil {
				return fmt.Errorf("could not download %s: %w", ref, err)
			}
			if err := d.store(tmp, p.FileName(), p.Data, p.Prov, "oci://"+p.Ref+" (provenance layer)"); err != nil {
				return fmt.Errorf("could not download %s: %w", ref, err)
			}
			continue
		}
		src := sources[dep.Name]
		cv, err := src.index.Get(dep.Name, dep.Version)
		if err != nil {
			return fmt.Errorf("could not find %s %s in %s: %w", dep.Name, dep.Version, dep.Repository, err)
		}
		u, err := ChartURL(src.entry.URL, cv)
		if err != nil {
			return err
		}
		if seen[u] {
			d.log("Already downloaded %s from repo %s", dep.Name, dep.Repository)
			continue
		}
		d.log("Downloading %s from repo %s", dep.Name, dep.Repository)
		data, err := d.Fetcher.FetchChart(ctx, src.entry, cv)
		if err != nil {
			return fmt.Errorf("could not download %s: %w", u, err)
		}
		var prov []byte
		if d.Verify {
			if prov, err = d.Fetcher.FetchProvenance(ctx, src.entry, u, cv.Name+"-"+cv.Version); err != nil {
				return fmt.Errorf("could not download %s: failed to fetch provenance %q: %w", u, ProvenanceURL(u), err)
			}
		}
		if err := d.store(tmp, ArchiveFileName(u), data, prov, ProvenanceURL(u)); err != nil {
			return fmt.Errorf("could not download %s: %w", u, err)
		}
		seen[u] = true
	}
	return d.moveInto(deps, tmp, dest)
}

// store writes a fetched archive into dir as name; with Verify, it first
// checks the archive against its provenance file prov (named provName in
// errors).
func (d *Dependencies) store(dir, name string, data, prov []byte, provName string) error {
	if d.Verify {
		if _, err := VerifyData(data, name, prov, provName, d.Keyring); err != nil {
			return err
		}
	}
	_, err := StoreArchive(dir, name, data)
	return err
}

// moveInto moves the archives of tmp into dest and deletes the archives
// of dest that were not replaced (except unpacked local dependencies).
func (d *Dependencies) moveInto(deps []*chart.Dependency, tmp, dest string) error {
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return err
	}
	fresh, err := os.ReadDir(tmp)
	if err != nil {
		return err
	}
	old, err := os.ReadDir(dest)
	if err != nil {
		return err
	}
	local := map[string]bool{}
	for _, dep := range deps {
		if dep.Repository == "" {
			local[dep.Name] = true
		}
	}
	kept := map[string]bool{}
	for _, f := range fresh {
		if f.IsDir() {
			continue
		}
		if err := os.Rename(filepath.Join(tmp, f.Name()), filepath.Join(dest, f.Name())); err != nil {
			return err
		}
		kept[f.Name()] = true
	}
	d.log("Deleting outdated charts")
	for _, f := range old {
		if f.IsDir() || kept[f.Name()] || !strings.HasSuffix(f.Name(), ".tgz") {
			continue
		}
		p := filepath.Join(dest, f.Name())
		ch, err := chart.Load(p)
		if err != nil {
			d.log("Could not verify %s for deletion: %s (Skipping)", p, err)
			continue
		}
		if local[ch.Name()] {
			continue
		}
		if err := os.Remove(p); err != nil {
			d.log("Could not delete %s: %s (Skipping)", p, err)
		}
	}
	return nil
}

func checkUnpackedDependency(chartsDir string, dep *chart.Dependency) error {
	p := filepath.Join(chartsDir, dep.Name)
	ch, err := chart.LoadDir(p)
	if err != nil {
		return fmt.Errorf("unable to load chart '%s': %w", p, err)
	}
	c, err := semver.NewConstraint(dep.Version)
	if err != nil {
		return fmt.Errorf("dependency %s has an invalid version/constraint format: %w", dep.Name, err)
	}
	v, err := semver.NewVersion(ch.Metadata.Version)
	if err != nil {
		return fmt.Errorf("invalid version %s for dependency %s: %w", dep.Version, dep.Name, err)
	}
	if !c.Check(v) {
		return fmt.Errorf("dependency %s at version %s does not satisfy the constraint %s", dep.Name, ch.Metadata.Version, dep.Version)
	}
	return nil
}

// packageLocalDependency packages a file:// dependency into dir.
func packageLocalDependency(chartDir string, dep *chart.Dependency, dir string) error {
	src, err := localDependencyPath(dep.Repository, chartDir)
	if err != nil {
		return err
	}
	ch, err := chart.LoadDir(src)
	if err != nil {
		return err
	}
	c, err := semver.NewConstraint(dep.Version)
	if err != nil {
		return fmt.Errorf("dependency %s has an invalid version/constraint format: %w", dep.Name, err)
	}
	v, err := semver.NewVersion(ch.Metadata.Version)
	if err != nil {
		return err
	}
	if !c.Check(v) {
		return fmt.Errorf("can't get a valid version for dependency %s", dep.Name)
	}
	_, err = chart.Save(ch, dir)
	return err
}

// localDependencyPath resolves a file:// repository (or a path) against
// the chart directory and checks that it exists.
func localDependencyPath(repository, chartDir string) (string, error) {
	p := strings.TrimPrefix(repository, "file://")
	if !filepath.IsAbs(p) {
		p = filepath.Join(chartDir, p)
	}
	if _, err := os.Stat(p); os.IsNotExist(err) {
		return "", fmt.Errorf("directory %s not found", p)
	} else if err != nil {
		return "", err
	}
	return p, nil
}

// writeLock writes Chart.lock (requirements.lock for apiVersion v1)
// atomically, refusing to replace a symbolic link.
func writeLock(chartDir string, lock *chart.Lock, legacy bool) error {
	b, err := yaml.Marshal(lock)
	if err != nil {
		return err
	}
	name := "Chart.lock"
	if legacy {
		name = "requirements.lock"
	}
	dest := filepath.Join(chartDir, name)
	if fi, err := os.Lstat(dest); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		link, _ := os.Readlink(dest)
		return fmt.Errorf("the %s file is a symlink to %q", name, link)
	}
	return writeFileAtomic(dest, b, 0o644)
}
