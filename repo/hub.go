package repo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
)

// DefaultHub is the hub `search hub` asks by default: Artifact Hub, through
// the Monocular-compatible search API it serves for Helm.
const DefaultHub = "https://hub.helm.sh"

// HubSearchPath is the Monocular search API's path under a hub's URL.
const HubSearchPath = "api/chartsvc/v1/charts/search"

// HubChart is one chart a hub search found.
type HubChart struct {
	// URL is the chart's page: Artifact Hub's package URL, or, from a
	// Monocular instance, ENDPOINT/charts/ID.
	URL         string
	Version     string
	AppVersion  string
	Description string
	RepoName    string
	RepoURL     string
}

// hubResult is the part of a Monocular search result a search reads.
type hubResult struct {
	ID          string `json:"id"`
	ArtifactHub struct {
		PackageURL string `json:"packageUrl"`
	} `json:"artifactHub"`
	Attributes struct {
		Description string `json:"description"`
		Repo        struct {
			Name string `json:"name"`
			URL  string `json:"url"`
		} `json:"repo"`
	} `json:"attributes"`
	Relationships struct {
		LatestChartVersion struct {
			Data struct {
				Version    string `json:"version"`
				AppVersion string `json:"app_version"`
			} `json:"data"`
		} `json:"latestChartVersion"`
	} `json:"relationships"`
}

// SearchHub asks the hub at endpoint for charts matching query (a keyword,
// or Artifact Hub's rich query syntax), as `helm search hub` does.
func SearchHub(ctx context.Context, client *http.Client, userAgent, endpoint, query string) ([]HubChart, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, err
	}
	if u.Hostname() == "" {
		return nil, errors.New("no hostname provided")
	}
	u.Path = path.Join(u.Path, HubSearchPath)
	u.RawQuery = "q=" + url.QueryEscape(query)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	if userAgent != "" {
		req.Header.Set("User-Agent", userAgent)
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("failed to fetch %s : %s", u, resp.Status)
	}
	var body struct {
		Data []hubResult `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("reading the answer of %s: %w", u, err)
	}
	out := make([]HubChart, 0, len(body.Data))
	for _, r := range body.Data {
		c := HubChart{
			URL:         endpoint + "/charts/" + r.ID,
			Version:     r.Relationships.LatestChartVersion.Data.Version,
			AppVersion:  r.Relationships.LatestChartVersion.Data.AppVersion,
			Description: r.Attributes.Description,
			RepoName:    r.Attributes.Repo.Name,
			RepoURL:     r.Attributes.Repo.URL,
		}
		if r.ArtifactHub.PackageURL != "" {
			c.URL = r.ArtifactHub.PackageURL
		}
		out = append(out, c)
	}
	return out, nil
}
