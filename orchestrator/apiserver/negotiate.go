package apiserver

import (
	"mime"
	"strings"
)

// media is what a client asked for in its Accept header.
type media int

// The responses the server can give.
const (
	// mediaNone means nothing acceptable: answer 406.
	mediaNone media = iota
	// mediaJSON is plain JSON.
	mediaJSON
	// mediaTable is a meta.k8s.io/v1 Table.
	mediaTable
	// mediaDiscoveryV2 is an apidiscovery.k8s.io/v2 APIGroupDiscoveryList.
	mediaDiscoveryV2
	// mediaPartial is meta.k8s.io/v1 PartialObjectMetadata (or its List):
	// metadata only, as the metadata client and its informers ask.
	mediaPartial
)

// Content types of the non-plain responses.
const (
	contentTypeDiscoveryV2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
	contentTypeTable       = "application/json;as=Table;v=v1;g=meta.k8s.io"
)

// negotiate picks the first entry of accept the server can serve among
// those allowed: tables and partial metadata on object endpoints, aggregated discovery on the
// discovery roots. An empty header means plain JSON.
func negotiate(accept string, tables, discovery bool) media {
	if strings.TrimSpace(accept) == "" {
		return mediaJSON
	}
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "application/json", "application/*", "*/*":
		default:
			continue
		}
		as, g, v := params["as"], params["g"], params["v"]
		switch {
		case as == "":
			return mediaJSON
		case as == "Table" && g == "meta.k8s.io" && v == "v1" && tables:
			return mediaTable
		case (as == "PartialObjectMetadata" || as == "PartialObjectMetadataList") && g == "meta.k8s.io" && v == "v1" && tables:
			return mediaPartial
		case as == "APIGroupDiscoveryList" && g == "apidiscovery.k8s.io" && v == "v2" && discovery:
			return mediaDiscoveryV2
		}
	}
	return mediaNone
}
