package apiserver

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"pkg.dev/pkg/orchestrator/store"
)

// nameSuffixChars are the characters of generated name suffixes, the set
// Kubernetes uses (no vowels, no look-alikes).
const nameSuffixChars = "bcdfghjklmnpqrstvwxz2456789"

// serveCreate answers POST to a collection.
func (s *Server) serveCreate(w http.ResponseWriter, r *http.Request, req request) {
	o, err := s.readObject(w, r, req.wire())
	if err != nil {
		s.fail(w, err)
		return
	}
	out, err := s.createAs(r.Context(), req, o)
	if err != nil {
		s.fail(w, err)
		return
	}
	s.writeObject(w, http.StatusCreated, req.wire(), out)
}

// writeObject answers a write with the stored object o in the version
// res the client addressed (conversion.go).
func (s *Server) writeObject(w http.ResponseWriter, code int, res *Resource, o object) {
	wo, err := res.wireForm(o)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, code, wo)
}

// create stores a new object of res in namespace ns; a dry run checks
// everything but stores nothing. It records no managedFields: it serves
// the server's own writes.
func (s *Server) create(ctx context.Context, res *Resource, ns string, o object, dryRun bool) (object, error) {
	return s.createAs(ctx, request{res: res, ns: ns, dryRun: dryRun}, o)
}

// createAs is create for a client's write through req (its resource,
// namespace and dry run), whose field manager owns from then on
// (metadata.managedFields); with no manager the object keeps the
// managedFields it has.
func (s *Server) createAs(ctx context.Context, req request, o object) (_ object, err error) {
	res, ns, dryRun := req.res, req.ns, req.dryRun
	m := meta(o)
	if err := checkNamespace(res, ns, m); err != nil {
		return nil, err
	}
	name := str(m, "name")
	gen := str(m, "generateName")
	if name == "" && gen == "" {
		return nil, apierrors.NewInvalid(res.GroupVersionKind().GroupKind(), "", field.ErrorList{
			field.Required(field.NewPath("metadata", "name"), "name or generateName is required"),
		})
	}
	if name != "" {
		if err := validName(res, name); err != nil {
			return nil, err
		}
	}
	if err := validMetadata(res, m); err != nil {
		return nil, err
	}
	if err := s.namespaceOpen(ctx, res, ns, name); err != nil {
		return nil, err
	}
	for k := range map[string]bool{"resourceVersion": true, "deletionTimestamp": true, "deletionGracePeriodSeconds": true, "selfLink": true} {
		delete(m, k)
	}
	m["uid"] = string(uuid.NewUUID())
	m["creationTimestamp"] = s.now().UTC().Truncate(time.Second).Format(time.RFC3339)
	if tracksGeneration(res) {
		m["generation"] = 1
	} else {
		delete(m, "generation")
	}
	// As kube-apiserver: a create sets no status, except a Node's, which
	// the kubelet registers with its capacity and conditions.
	if res.Status && !(res.Group == "" && res.Resource == "nodes") {
		delete(o, "status")
	}
	if err := applyDefaults(res, o); err != nil {
		return nil, err
	}
	if err := validateCustom(res, o); err != nil {
		return nil, err
	}
	if err := validateBuiltin(res, "", nil, o); err != nil {
		return nil, err
	}
	if req.manager != "" {
		o = s.trackWriteFor(req, "", nil, o)
		m = meta(o)
	}
	finish, err := s.admitCreate(ctx, res, o, dryRun)
	if err != nil {
		return nil, err
	}
	defer func() { finish(err == nil) }()
	for attempt := 0; ; attempt++ {
		if gen != "" && name == "" || attempt > 0 {
			m["name"] = generatedName(gen)
			if err := validName(res, m["name"].(string)); err != nil {
				return nil, err
			}
		}
		if dryRun {
			_, _, err := s.getObject(ctx, res, ns, str(m, "name"))
			if err == nil {
				return nil, apierrors.NewAlreadyExists(res.GroupResource(), str(m, "name"))
			}
			if !apierrors.IsNotFound(err) {
				return nil, err
			}
			return o, nil
		}
		data, err := storedBytes(o)
		if err != nil {
			return nil, err
		}
		kv, err := s.cfg.Store.Create(ctx, res.key(ns, str(m, "name")), data)
		if errors.Is(err, store.ErrAlreadyExists) {
			if name == "" && attempt < 8 {
				continue
			}
			return nil, apierrors.NewAlreadyExists(res.GroupResource(), str(m, "name"))
		}
		if err != nil {
			return nil, err
		}
		m["resourceVersion"] = strconv.FormatInt(kv.ModRev, 10)
		s.afterWrite(ctx, res, o, false)
		return o, nil
	}
}

// checkNamespace reconciles the object's namespace with the URL's.
func checkNamespace(res *Resource, ns string, m map[string]any) error {
	if !res.Namespaced {
		delete(m, "namespace")
		return nil
	}
	switch got := str(m, "namespace"); got {
	case "":
		m["namespace"] = ns
	case ns:
	default:
		return apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
	}
	return nil
}

// validName returns an Invalid Status if name is not a valid name for res.
func validName(res *Resource, name string) error {
	var errs field.ErrorList
	for _, msg := range res.validateName(name) {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), name, msg))
	}
	if len(errs) == 0 {
		return nil
	}
	return apierrors.NewInvalid(res.GroupVersionKind().GroupKind(), name, errs)
}

// generatedName is a name made from generateName as kube-apiserver
// makes it: the prefix cut to 58 characters, so that with the five
// random ones the name still fits a 63-character DNS label.
func generatedName(prefix string) string {
	const maxPrefix = 63 - 5
	if len(prefix) > maxPrefix {
		prefix = prefix[:maxPrefix]
	}
	return prefix + randomSuffix()
}

// randomSuffix returns five random characters for generateName.
func randomSuffix() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = nameSuffixChars[int(b[i])%len(nameSuffixChars)]
	}
	return string(b[:])
}

// applyDefaults fills in the fields Kubernetes defaults on every write and
// folds Secret stringData into data.
func applyDefaults(res *Resource, o object) error {
	switch res.APIVersion() + "/" + res.Kind {
	case "v1/Secret":
		if sd, ok := o["stringData"].(map[string]any); ok {
			data, _ := o["data"].(map[string]any)
			if data == nil {
				data = map[string]any{}
			}
			for k, v := range sd {
				s, ok := v.(string)
				if !ok {
					return apierrors.NewBadRequest(fmt.Sprintf("stringData[%q] must be a string", k))
				}
				data[k] = base64.StdEncoding.EncodeToString([]byte(s))
			}
			o["data"] = data
		}
		delete(o, "stringData")
		if str(o, "type") == "" {
			o["type"] = "Opaque"
		}
	case "v1/Namespace":
		if str(o, "status", "phase") == "" {
			o["status"] = map[string]any{"phase": "Active"}
		}
	case crdGroup + "/v1/CustomResourceDefinition":
		return prepareCRD(o)
	case "v1/Pod":
		if str(o, "status", "phase") == "" {
			o["status"] = map[string]any{"phase": "Pending"}
		}
	case "batch/v1/Job":
		// The selector comes from the uid, given to the object on
		// create after its body was decoded and defaulted.
		if m, _ := o["spec"].(map[string]any); m == nil || m["selector"] == nil {
			var j batchv1.Job
			if err := fromObject(o, &j); err != nil {
				return err
			}
			defaultJobSelector(&j)
			if j.Spec.Selector != nil {
				next, err := toObject(&j)
				if err != nil {
					return err
				}
				o["spec"] = next["spec"]
			}
		}
	}
	return nil
}

// errConflict is Kubernetes' 409 for a stale resourceVersion.
func errConflict(res *Resource, name string) error {
	return apierrors.NewConflict(res.GroupResource(), name, errors.New(optimisticLockMessage))
}

// serveUpdate answers PUT of an object or of its status.
func (s *Server) serveUpdate(w http.ResponseWriter, r *http.Request, req request) {
	in, err := s.readObject(w, r, req.wire())
	if err != nil {
		s.fail(w, err)
		return
	}
	out, err := s.update(r.Context(), req, in)
	if err != nil {
		s.fail(w, err)
		return
	}
	s.writeObject(w, http.StatusOK, req.wire(), out)
}

// update replaces the object named by req with in, keeping what clients
// may not change. A resourceVersion in `in` must be the current one. A
// dry run returns the result without storing it.
//
// Without a resourceVersion the update is unconditional: as
// kube-apiserver's, it is tried again on the new state when another write
// lands between the read and the store's write, instead of answering 409.
func (s *Server) update(ctx context.Context, req request, in object) (object, error) {
	pinned := str(meta(in), "resourceVersion") != ""
	for attempt := 1; ; attempt++ {
		try := in
		if !pinned {
			try = deepCopy(in)
		}
		out, err := s.updateOnce(ctx, req, try)
		var raced racedError
		if !errors.As(err, &raced) {
			return out, err
		}
		if pinned || attempt == maxDeleteAttempts || ctx.Err() != nil {
			return nil, raced.error
		}
	}
}

// updateOnce is one attempt of update; a write the store refused because
// the object changed after it was read is a racedError.
func (s *Server) updateOnce(ctx context.Context, req request, in object) (_ object, err error) {
	res := req.res
	m := meta(in)
	if name := str(m, "name"); name != "" && name != req.name {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", name, req.name))
	}
	m["name"] = req.name
	if err := checkNamespace(res, req.ns, m); err != nil {
		return nil, err
	}
	cur, kv, err := s.getObject(ctx, res, req.ns, req.name)
	if err != nil {
		return nil, err
	}
	curRV := strconv.FormatInt(kv.ModRev, 10)
	if rv := str(m, "resourceVersion"); rv != "" && rv != curRV {
		return nil, errConflict(res, req.name)
	}
	if uid := str(m, "uid"); uid != "" && uid != str(cur, "metadata", "uid") {
		return nil, apierrors.NewConflict(res.GroupResource(), req.name,
			fmt.Errorf("Precondition failed: UID in precondition: %s, UID in object meta: %s", uid, str(cur, "metadata", "uid")))
	}
	next, err := merge(res, cur, in, req.sub == "status")
	if err != nil {
		return nil, err
	}
	if req.applied {
		// An apply through a subresource brings its managedFields,
		// which merge does not take from the object sent.
		if mf, ok := meta(in)["managedFields"]; ok {
			meta(next)["managedFields"] = mf
		}
	}
	if err := validMetadata(res, meta(next)); err != nil {
		return nil, err
	}
	if err := validateCustom(res, next); err != nil {
		return nil, err
	}
	if err := validateBuiltin(res, req.sub, cur, next); err != nil {
		return nil, err
	}
	if req.manager != "" && !req.applied {
		sub := req.sub
		if req.fieldsSub != "" {
			sub = req.fieldsSub
		}
		next = s.trackWriteFor(req, sub, cur, next)
	}
	finish, err := s.admitUpdate(ctx, res, req.sub, cur, next, req.dryRun)
	if err != nil {
		return nil, err
	}
	defer func() { finish(err == nil) }()
	meta(next)["resourceVersion"] = curRV
	if equalJSON(next, cur) || req.dryRun {
		return next, nil
	}
	data, err := storedBytes(next)
	if err != nil {
		return nil, err
	}
	kv, err = s.storeUpdate(ctx, res, kv, next, data)
	switch {
	case errors.Is(err, store.ErrConflict):
		return nil, racedError{errConflict(res, req.name)}
	case errors.Is(err, store.ErrNotFound):
		return nil, apierrors.NewNotFound(res.GroupResource(), req.name)
	case err != nil:
		return nil, err
	}
	meta(next)["resourceVersion"] = strconv.FormatInt(kv.ModRev, 10)
	s.afterWrite(ctx, res, next, false)
	return next, nil
}

// merge computes the object an update stores from the current one and the
// one sent. A status update changes only status; a main update keeps the
// stored status of kinds with a status subresource. Identity and
// server-owned metadata are kept, and generation is bumped when anything
// outside metadata and status changed.
func merge(res *Resource, cur, in object, statusOnly bool) (object, error) {
	if statusOnly {
		next := deepCopy(cur)
		if st, ok := in["status"]; ok {
			next["status"] = st
		} else {
			delete(next, "status")
		}
		return next, nil
	}
	next := in
	m, cm := meta(next), meta(cur)
	for _, k := range []string{"uid", "creationTimestamp", "generation", "deletionTimestamp", "deletionGracePeriodSeconds"} {
		if v, ok := cm[k]; ok {
			m[k] = v
		} else {
			delete(m, k)
		}
	}
	delete(m, "selfLink")
	if res.Status {
		if st, ok := cur["status"]; ok {
			next["status"] = st
		} else {
			delete(next, "status")
		}
	}
	if err := applyDefaults(res, next); err != nil {
		return nil, err
	}
	if tracksGeneration(res) && !equalJSON(specOf(next), specOf(cur)) {
		m["generation"] = num(cm, "generation") + 1
	}
	return next, nil
}

// untracked are the resources kube-apiserver keeps no
// metadata.generation for: their registry strategies never set it (the
// workloads, Ingresses, policies, CRDs and custom resources do), so
// `kubectl get -o yaml` and `kubectl diff` show none.
var untracked = map[schema.GroupResource]bool{
	{Resource: "configmaps"}: true, {Resource: "secrets"}: true, {Resource: "services"}: true,
	{Resource: "serviceaccounts"}: true, {Resource: "endpoints"}: true, {Resource: "namespaces"}: true,
	{Resource: "persistentvolumeclaims"}: true, {Resource: "persistentvolumes"}: true, {Resource: "events"}: true,
	{Resource: "limitranges"}: true, {Resource: "resourcequotas"}: true,
	{Group: "events.k8s.io", Resource: "events"}:                          true,
	{Group: "coordination.k8s.io", Resource: "leases"}:                    true,
	{Group: "rbac.authorization.k8s.io", Resource: "roles"}:               true,
	{Group: "rbac.authorization.k8s.io", Resource: "rolebindings"}:        true,
	{Group: "rbac.authorization.k8s.io", Resource: "clusterroles"}:        true,
	{Group: "rbac.authorization.k8s.io", Resource: "clusterrolebindings"}: true,
	{Group: "storage.k8s.io", Resource: "storageclasses"}:                 true,
	{Group: "scheduling.k8s.io", Resource: "priorityclasses"}:             true,
}

// tracksGeneration tells whether res's objects have a metadata.generation.
func tracksGeneration(res *Resource) bool {
	return !untracked[res.GroupResource()]
}
