package cli

import (
	"context"
	"errors"
	"fmt"

	"pkg.dev/pkg/repo"
)

// provMode is how a download treats the chart's provenance file, as
// Helm's downloader's Verify levels do.
type provMode int

const (
	// provNever fetches no provenance file.
	provNever provMode = iota
	// provLater fetches it when there is one (--prov): a missing one is a
	// warning, and nothing is verified.
	provLater
	// provAlways fetches and verifies it (--verify): a missing or bad
	// one is an error.
	provAlways
)

// fetchedChart is a downloaded chart archive, not yet written anywhere,
// and its provenance file when one was asked for and found.
type fetchedChart struct {
	data []byte
	prov []byte
	// fileName is the name the archive is saved as (NAME-VERSION.tgz),
	// the name its provenance file records.
	fileName string
	// url is where the archive came from; provURL where the provenance
	// file did (or was looked for).
	url, provURL string
	// oci is the registry pull, for oci:// references.
	oci *repo.OCIPull
}

// fetch downloads the chart reference name (oci://, REPO/CHART, a chart
// in --repo or an http(s) URL) with its provenance file as mode says.
// With provLater a missing provenance file is reported through warn
// with Helm's warning and the chart is returned without one.
func (c *chartPathOptions) fetch(ctx context.Context, name string, mode provMode, warn func(string)) (*fetchedChart, error) {
	wantProv := mode != provNever
	if repo.IsOCI(name) {
		p, err := c.pullOCI(ctx, name, wantProv)
		if err != nil {
			return nil, err
		}
		ref := repo.OCIScheme + "://" + p.Ref
		f := &fetchedChart{data: p.Data, prov: p.Prov, fileName: p.FileName(), url: ref, provURL: ref + ".prov", oci: p}
		if wantProv && p.Prov == nil {
			if mode == provAlways {
				return nil, fmt.Errorf("failed to fetch provenance %q of chart %q: %w", f.provURL, f.fileName, repo.ErrNoProvenanceLayer)
			}
			warn(fmt.Sprintf("WARNING: Verification not found for %s: %s", name, repo.ErrNoProvenanceLayer))
		}
		return f, nil
	}
	config, cache := c.repositoryPaths()
	d, err := c.download(ctx, name, config, repo.Cache{Dir: cache})
	if err != nil {
		return nil, err
	}
	f := &fetchedChart{data: d.Data, fileName: d.FileName, url: d.URL, provURL: repo.ProvenanceURL(d.URL)}
	if !wantProv {
		return f, nil
	}
	chartName := d.FileName
	if d.Chart != nil {
		chartName = d.Chart.Name + "-" + d.Chart.Version
	}
	prov, err := newFetcher(c.env, defaultRepoTimeout).FetchProvenance(ctx, d.Entry, d.URL, chartName)
	if err != nil {
		if mode == provAlways {
			return nil, fmt.Errorf("failed to fetch provenance %q: %w", f.provURL, err)
		}
		warn(fmt.Sprintf("WARNING: Verification not found for %s: %s", name, errors.Unwrap(err)))
		return f, nil
	}
	f.prov = prov
	return f, nil
}

// verify checks a fetched chart against its provenance file with the
// keys of the keyring file, naming the chart and where it came from when
// it does not verify.
func (f *fetchedChart) verify(keyring string) (*repo.Verification, error) {
	ring, err := repo.LoadKeyring(keyring)
	if err != nil {
		return nil, fmt.Errorf("failed to load keyring: %w", err)
	}
	v, err := repo.VerifyData(f.data, f.fileName, f.prov, f.provURL, ring)
	if err != nil {
		return nil, fmt.Errorf("verifying chart %q from %s: %w", f.fileName, f.url, err)
	}
	return v, nil
}

// store writes the archive into dir, and its provenance file beside it
// when there is one, and returns the archive's path. The provenance file
// is written first so that an archive is never left without the .prov it
// came with.
func (f *fetchedChart) store(dir string) (string, error) {
	if f.prov != nil {
		if _, err := repo.StoreArchive(dir, f.fileName+".prov", f.prov); err != nil {
			return "", err
		}
	}
	return repo.StoreArchive(dir, f.fileName, f.data)
}
