// Package repo reads and writes Helm chart repositories served over HTTP:
// the repositories file (repositories.yaml), a repository's index
// (index.yaml), the local index cache, and the chart archives an index
// points at. It also pushes charts to and pulls them from OCI registries
// (OCI, with Helm's media types and Docker's credential store), and
// resolves a chart's dependencies into Chart.lock and charts/
// (Dependencies).
//
// Every file format and location is Helm's, so a configuration left by
// `helm repo add` is used as is and `helm` reads what this package writes:
//
//   - the repositories file holds one Entry per repository (name, URL,
//     credentials, TLS files);
//   - the cache directory holds NAME-index.yaml, the index as the server
//     sent it, and NAME-charts.txt, the chart names one per line;
//   - an index maps chart names to their versions, newest first.
//
// Loading an index is tolerant in the way Helm's loader is: entries that
// are null or fail chart validation are dropped (and reported through a
// callback), a missing apiVersion of an entry defaults to v1, and a JSON
// index is accepted as well as YAML. Unlike Helm, unknown fields are
// ignored rather than refused. Common indexes are decoded from the YAML
// node tree directly, without Helm's YAML to JSON round trip; anything the
// fast path cannot decode exactly as Helm would (anchors, YAML 1.1
// booleans, numbers written where text is expected in a non-canonical
// form, mistyped fields) is decoded by the general path instead.
//
// Files are written atomically: the data goes to a temporary file in the
// destination directory which is then renamed into place, so a failed
// write leaves the previous file untouched.
//
// Network access goes through a Fetcher built by the caller around an
// *http.Client: credentials are sent only to the repository's own scheme
// and host unless the entry passes them to all hosts, as Helm does, and
// TLS client certificates, CA bundles and skipping verification are taken
// from the entry. Downloaded archives are checked against the digest the
// index records and must load as a chart before they are stored.
//
// The package imports only the chart package, the standard library,
// sigs.k8s.io/yaml, Masterminds/semver and, for registries, oras-go and
// the OCI image-spec types. It prints nothing: progress and warnings go
// to callbacks.
package repo
