package release

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes/scheme"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	sigsjson "sigs.k8s.io/json"
)

// SecretsDriver stores records as Helm's default driver does: one Secret
// of type helm.sh/release.v1 per revision, its data key "release" holding
// the encoded record.
type SecretsDriver struct {
	objects[*corev1.Secret, *corev1.SecretList]
}

// NewSecretsDriver returns a driver over the Secrets of namespace ("" for
// every namespace, for listing only). now stamps createdAt and modifiedAt.
func NewSecretsDriver(c corev1client.CoreV1Interface, namespace string, now func() time.Time, log *slog.Logger) *SecretsDriver {
	api := c.Secrets(namespace)
	return &SecretsDriver{objects[*corev1.Secret, *corev1.SecretList]{
		kind: "secret", now: now, log: log,
		get:    api.Get,
		list:   jsonList(c, namespace, "secrets", api.List),
		create: api.Create,
		update: api.Update,
		del:    api.Delete,
		items:  func(l *corev1.SecretList) []*corev1.Secret { return pointers(l.Items) },
		body:   func(s *corev1.Secret) (string, map[string]string) { return string(s.Data["release"]), s.Labels },
		build: func(key, body string, lbs map[string]string) *corev1.Secret {
			return &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Name: key, Labels: lbs},
				Type:       "helm.sh/release.v1",
				Data:       map[string][]byte{"release": []byte(body)},
			}
		},
	}}
}

// ConfigMapsDriver stores records in ConfigMaps, as Helm's "configmap"
// driver does.
type ConfigMapsDriver struct {
	objects[*corev1.ConfigMap, *corev1.ConfigMapList]
}

// NewConfigMapsDriver returns a driver over the ConfigMaps of namespace.
func NewConfigMapsDriver(c corev1client.CoreV1Interface, namespace string, now func() time.Time, log *slog.Logger) *ConfigMapsDriver {
	api := c.ConfigMaps(namespace)
	return &ConfigMapsDriver{objects[*corev1.ConfigMap, *corev1.ConfigMapList]{
		kind: "configmap", now: now, log: log,
		get:    api.Get,
		list:   jsonList(c, namespace, "configmaps", api.List),
		create: api.Create,
		update: api.Update,
		del:    api.Delete,
		items:  func(l *corev1.ConfigMapList) []*corev1.ConfigMap { return pointers(l.Items) },
		body:   func(m *corev1.ConfigMap) (string, map[string]string) { return m.Data["release"], m.Labels },
		build: func(key, body string, lbs map[string]string) *corev1.ConfigMap {
			return &corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{Name: key, Labels: lbs},
				Data:       map[string]string{"release": body},
			}
		},
	}}
}

// jsonList lists resource in namespace as JSON decoded in one pass. The
// typed client reads a list twice, once to find its kind and once to
// decode it; for a history of 100 records, each a chart's worth of
// base64, that first pass is a measurable part of "pkg history". Without
// a REST client (a fake clientset) it is typed.
func jsonList[L any](c corev1client.CoreV1Interface, namespace, resource string, typed func(context.Context, metav1.ListOptions) (L, error)) func(context.Context, metav1.ListOptions) (L, error) {
	rc, ok := c.RESTClient().(*rest.RESTClient)
	if !ok || rc == nil {
		return typed
	}
	return func(ctx context.Context, opts metav1.ListOptions) (L, error) {
		var list L
		raw, err := rc.Get().Namespace(namespace).Resource(resource).
			VersionedParams(&opts, scheme.ParameterCodec).
			SetHeader("Accept", "application/json").DoRaw(ctx)
		if err != nil {
			return list, err
		}
		if err := sigsjson.UnmarshalCaseSensitivePreserveInts(raw, &list); err != nil {
			return list, fmt.Errorf("decoding the list of %s: %w", resource, err)
		}
		return list, nil
	}
}

// pointers returns a pointer to each element of items.
func pointers[T any](items []T) []*T {
	out := make([]*T, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out
}

var (
	_ Driver = (*SecretsDriver)(nil)
	_ Driver = (*ConfigMapsDriver)(nil)
)

// objects is a Driver over one kind of Kubernetes object that carries the
// encoded record in its data and the record's labels in its labels.
type objects[T any, L any] struct {
	kind   string
	now    func() time.Time
	log    *slog.Logger
	get    func(context.Context, string, metav1.GetOptions) (T, error)
	list   func(context.Context, metav1.ListOptions) (L, error)
	create func(context.Context, T, metav1.CreateOptions) (T, error)
	update func(context.Context, T, metav1.UpdateOptions) (T, error)
	del    func(context.Context, string, metav1.DeleteOptions) error
	items  func(L) []T
	body   func(T) (string, map[string]string)
	build  func(key, body string, labels map[string]string) T
}

// Name returns the driver's HELM_DRIVER name.
func (o *objects[T, L]) Name() string { return o.kind }

func (o *objects[T, L]) decode(obj T) (*Release, error) {
	body, lbs := o.body(obj)
	r, err := Decode(body)
	if err != nil {
		return nil, err
	}
	r.Labels = userLabels(lbs)
	return r, nil
}

// Get reads one record.
func (o *objects[T, L]) Get(ctx context.Context, key string) (*Release, error) {
	obj, err := o.get(ctx, key, metav1.GetOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("%s %s: %w", o.kind, key, ErrNotFound)
		}
		return nil, fmt.Errorf("reading %s %s: %w", o.kind, key, err)
	}
	r, err := o.decode(obj)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", o.kind, key, err)
	}
	return r, nil
}

// List reads every record of owner helm that filter accepts. Records that
// do not decode are logged and skipped, as Helm skips them.
func (o *objects[T, L]) List(ctx context.Context, filter func(*Release) bool) ([]*Release, error) {
	return o.find(ctx, labels.Set{"owner": "helm"}.String(), filter)
}

// Query reads the records whose labels match.
func (o *objects[T, L]) Query(ctx context.Context, match map[string]string) ([]*Release, error) {
	for k, v := range match {
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			return nil, fmt.Errorf("invalid label value %q for %s: %s", v, k, strings.Join(errs, "; "))
		}
	}
	out, err := o.find(ctx, labels.Set(match).String(), nil)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, ErrNotFound
	}
	return out, nil
}

func (o *objects[T, L]) find(ctx context.Context, selector string, filter func(*Release) bool) ([]*Release, error) {
	l, err := o.list(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, fmt.Errorf("listing release %ss: %w", o.kind, err)
	}
	items := o.items(l)
	// Records are gzip'd JSON of a whole chart: decode them on every core.
	decoded := make([]*Release, len(items))
	errs := make([]error, len(items))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < min(runtime.GOMAXPROCS(0), len(items)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				decoded[i], errs[i] = o.decode(items[i])
			}
		}()
	}
	for i := range items {
		next <- i
	}
	close(next)
	wg.Wait()
	var out []*Release
	for i, r := range decoded {
		if errs[i] != nil {
			if o.log != nil {
				o.log.Warn("skipping a release record that does not decode", "driver", o.kind, "err", errs[i])
			}
			continue
		}
		if filter == nil || filter(r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// last reads only the newest revision of a release: the records are
// listed, and only the one with the highest version label is decoded.
func (o *objects[T, L]) last(ctx context.Context, name string) (*Release, error) {
	l, err := o.list(ctx, metav1.ListOptions{LabelSelector: labels.Set{"name": name, "owner": "helm"}.String()})
	if err != nil {
		return nil, fmt.Errorf("listing release %ss: %w", o.kind, err)
	}
	items := o.items(l)
	// Newest first, by the version label; a record that does not decode is
	// skipped for the next one, as History skips it.
	sort.SliceStable(items, func(i, j int) bool {
		_, li := o.body(items[i])
		_, lj := o.body(items[j])
		vi, _ := strconv.Atoi(li["version"])
		vj, _ := strconv.Atoi(lj["version"])
		return vi > vj
	})
	for _, it := range items {
		r, err := o.decode(it)
		if err == nil {
			return r, nil
		}
		if o.log != nil {
			o.log.Warn("skipping a release record that does not decode", "driver", o.kind, "err", err)
		}
	}
	return nil, ErrNotFound
}

// Create writes a new record, labelled createdAt.
func (o *objects[T, L]) Create(ctx context.Context, key string, r *Release) error {
	body, err := Encode(r)
	if err != nil {
		return err
	}
	obj := o.build(key, body, storageLabels(r, "createdAt", strconv.FormatInt(o.now().Unix(), 10)))
	if _, err := o.create(ctx, obj, metav1.CreateOptions{}); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("%s %s: %w", o.kind, key, ErrExists)
		}
		return fmt.Errorf("writing %s %s: %w", o.kind, key, err)
	}
	return nil
}

// Update overwrites a record, labelled modifiedAt.
func (o *objects[T, L]) Update(ctx context.Context, key string, r *Release) error {
	body, err := Encode(r)
	if err != nil {
		return err
	}
	obj := o.build(key, body, storageLabels(r, "modifiedAt", strconv.FormatInt(o.now().Unix(), 10)))
	if _, err := o.update(ctx, obj, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("updating %s %s: %w", o.kind, key, err)
	}
	return nil
}

// remove deletes a record without reading it.
func (o *objects[T, L]) remove(ctx context.Context, key string) error {
	if err := o.del(ctx, key, metav1.DeleteOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("%s %s: %w", o.kind, key, ErrNotFound)
		}
		return fmt.Errorf("deleting %s %s: %w", o.kind, key, err)
	}
	return nil
}

// Delete removes a record.
func (o *objects[T, L]) Delete(ctx context.Context, key string) (*Release, error) {
	r, err := o.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	if err := o.del(ctx, key, metav1.DeleteOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("%s %s: %w", o.kind, key, ErrNotFound)
		}
		return nil, fmt.Errorf("deleting %s %s: %w", o.kind, key, err)
	}
	return r, nil
}
