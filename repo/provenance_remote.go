package repo

import (
	"context"
)

// OpFetchProvenance names the download of a chart's provenance file.
const OpFetchProvenance = "downloading provenance of chart"

// ProvenanceURL is where a chart repository serves the provenance file of
// the archive at chartURL: beside it, with ".prov" appended, as Helm's
// downloader looks for it.
func ProvenanceURL(chartURL string) string { return chartURL + ".prov" }

// FetchProvenance downloads the provenance file of the archive at
// chartURL on behalf of repository e. chart ("NAME-VERSION", or the
// archive's file name) names the chart in errors.
func (f *Fetcher) FetchProvenance(ctx context.Context, e *Entry, chartURL, chart string) ([]byte, error) {
	u := ProvenanceURL(chartURL)
	data, err := f.Get(ctx, e, u, "")
	if err != nil {
		name := ""
		if e != nil {
			name = e.Name
		}
		return nil, &Error{Op: OpFetchProvenance, Repo: name, URL: u, Chart: chart, Err: err}
	}
	return data, nil
}
