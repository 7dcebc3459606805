package release

import (
	"context"
	"strconv"
)

// Driver stores release records. Keys are Helm's:
// "sh.helm.release.v1.NAME.vVERSION".
type Driver interface {
	// Name is the driver's name as HELM_DRIVER names it ("secret").
	Name() string
	// Get reads one record; ErrNotFound if missing.
	Get(ctx context.Context, key string) (*Release, error)
	// List reads every record the filter accepts.
	List(ctx context.Context, filter func(*Release) bool) ([]*Release, error)
	// Query reads the records whose storage labels match all of labels;
	// ErrNotFound if none.
	Query(ctx context.Context, labels map[string]string) ([]*Release, error)
	// Create writes a new record; ErrExists if the key is taken.
	Create(ctx context.Context, key string, r *Release) error
	// Update overwrites a record.
	Update(ctx context.Context, key string, r *Release) error
	// Delete removes a record and returns it; ErrNotFound if missing.
	Delete(ctx context.Context, key string) (*Release, error)
}

// Key is the storage key of a revision.
func Key(name string, version int) string {
	return "sh.helm.release.v1." + name + ".v" + strconv.Itoa(version)
}

// systemLabels are the storage labels the drivers own; the rest are the
// release's own labels.
var systemLabels = map[string]bool{"name": true, "owner": true, "status": true, "version": true, "createdAt": true, "modifiedAt": true}

// IsSystemLabel tells whether a label name is reserved for the storage
// drivers, and so cannot be a release label.
func IsSystemLabel(k string) bool { return systemLabels[k] }

// userLabels returns labels without the system ones (nil if none remain).
func userLabels(labels map[string]string) map[string]string {
	var out map[string]string
	for k, v := range labels {
		if systemLabels[k] {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[k] = v
	}
	return out
}

// storageLabels are the labels of a record's storage object: the
// release's labels plus name, owner, status, version and the given
// timestamp label.
func storageLabels(r *Release, stampKey, stamp string) map[string]string {
	lbs := make(map[string]string, len(r.Labels)+5)
	for k, v := range r.Labels {
		lbs[k] = v
	}
	if stampKey != "" {
		lbs[stampKey] = stamp
	}
	lbs["name"] = r.Name
	lbs["owner"] = "helm"
	lbs["status"] = r.Info.Status.String()
	lbs["version"] = strconv.Itoa(r.Version)
	return lbs
}
