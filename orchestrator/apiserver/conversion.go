package apiserver

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// A built-in kind may be served in more than one version of its group
// while its objects are stored once, in one version: kube-apiserver serves
// HorizontalPodAutoscalers in autoscaling/v2 and autoscaling/v1. The other
// versions' Resources carry a conversion to and from the stored one.
//
// Inside the server an object is always in its stored form. A request to
// a version with a conversion is routed to the storage version's Resource
// (serveResource), with the version the client addressed kept in
// request.served, and it converts only at its two edges:
//
//   - on the way in, an object the client writes is decoded, type-checked
//     and defaulted in the addressed version (readObject, a patch applied
//     to the addressed form, a server-side apply merged in it), then
//     converted to the stored form before anything else sees it, so that
//     validation, merging with the stored object, status, admission and
//     storage work as for the storage version;
//   - on the way out, every object sent back is converted to the addressed
//     version as it is encoded: a get, a list, a watch event, a write's
//     answer, the object embedded in a Table row. Table cells are
//     computed from the stored form, so a kind prints the same in all its
//     versions, as kube-apiserver prints from its internal form.
//
// managedFields record the fields in the version the client wrote, as
// kube-apiserver records them, and the field manager converts between
// the versions of the managers' entries (convertVersion), so that an
// apply through one version conflicts with the owner of the same field
// through another.
//
// CustomResourceDefinitions served in several versions are the other
// multi-version case; their objects are stored as written and only given
// the apiVersion asked for (Resource.servedForm, the None strategy).

// conversion converts the objects of a Resource between its version and
// the version they are stored in. Neither function changes its argument.
type conversion struct {
	// storage is the stored version, of the same group, kind and plural.
	storage string
	// toStored converts an object of the served version, already
	// type-checked and defaulted in it, to the stored version, with the
	// stored version's defaults.
	toStored func(object) (object, error)
	// toServed converts a stored object to the served version.
	toServed func(object) (object, error)
}

// storedForm converts an object decoded in r's version to the stored form;
// objects of versions without a conversion are already in it.
func (r *Resource) storedForm(o object) (object, error) {
	if r.conv == nil || o == nil {
		return o, nil
	}
	out, err := r.conv.toStored(o)
	if err != nil {
		return nil, fmt.Errorf("converting %s %q from %s to %s: %w", r.Kind, str(o, "metadata", "name"), r.Version, r.conv.storage, err)
	}
	return out, nil
}

// wireForm converts a stored object to r's version; objects of versions
// without a conversion are returned as they are.
func (r *Resource) wireForm(o object) (object, error) {
	if r.conv == nil || o == nil {
		return o, nil
	}
	out, err := r.conv.toServed(o)
	if err != nil {
		return nil, fmt.Errorf("converting %s %q from %s to %s: %w", r.Kind, str(o, "metadata", "name"), r.conv.storage, r.Version, err)
	}
	return out, nil
}

// wireForms converts stored objects to r's version.
func (r *Resource) wireForms(objs []object) ([]object, error) {
	if r.conv == nil {
		return objs, nil
	}
	out := make([]object, 0, len(objs))
	for _, o := range objs {
		w, err := r.wireForm(o)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}

// storageOf returns the Resource whose version stores res's objects: res
// itself unless it has a conversion.
func (s *Server) storageOf(res *Resource) (*Resource, error) {
	if res.conv == nil {
		return res, nil
	}
	gv := schema.GroupVersion{Group: res.Group, Version: res.conv.storage}.String()
	st := s.byGV[gv][res.Resource]
	if st == nil || st.conv != nil {
		return nil, fmt.Errorf("%s %s: storage version %s is not served", res.GroupResource(), res.Version, gv)
	}
	return st, nil
}

// storedElsewhere says r is a version whose objects are stored, and so
// listed, watched and collected, through another Resource: loops over
// every stored object skip it.
func (r *Resource) storedElsewhere() bool { return r.conv != nil }

// wire returns the Resource of the version the client addressed.
func (req request) wire() *Resource {
	if req.served != nil {
		return req.served
	}
	return req.res
}

// trackWriteFor is trackWrite for a client's write through req: the
// fields are recorded in the version the client wrote, the stored objects
// cur (nil for a create) and next being converted to it first.
func (s *Server) trackWriteFor(req request, sub string, cur, next object) object {
	if req.served == nil {
		return s.trackWrite(req.res, sub, cur, next, req.manager)
	}
	wcur, err := req.served.wireForm(cur)
	var wnext object
	if err == nil {
		wnext, err = req.served.wireForm(next)
	}
	if err != nil {
		s.log.Warn("updating managedFields", "resource", req.res.GroupResource().String(), "name", str(next, "metadata", "name"), "err", err)
		if mf, ok := get(cur, "metadata", "managedFields").([]any); ok {
			meta(next)["managedFields"] = mf
		} else {
			delete(meta(next), "managedFields")
		}
		return next
	}
	out := s.trackWrite(req.served, sub, wcur, wnext, req.manager)
	if mf := get(out, "metadata", "managedFields"); mf != nil {
		meta(next)["managedFields"] = mf
	} else {
		delete(meta(next), "managedFields")
	}
	return next
}

// convertVersion converts an unstructured object of a built-in kind to the
// version target asks for, through the stored form: the field manager's
// object convertor (fieldmanager.go). Objects of kinds served in one
// version, and custom resources, are returned as they are.
func (s *Server) convertVersion(in runtime.Object, target runtime.GroupVersioner) (runtime.Object, error) {
	u, ok := in.(*unstructured.Unstructured)
	if !ok {
		return in, nil
	}
	gvk := u.GroupVersionKind()
	want, ok := target.KindForGroupVersionKinds([]schema.GroupVersionKind{gvk})
	if !ok || want == gvk {
		return in, nil
	}
	from, to := s.builtinKind(gvk), s.builtinKind(want)
	if from == nil || to == nil || (from.conv == nil && to.conv == nil) {
		return in, nil
	}
	stored, err := from.storedForm(u.Object)
	if err != nil {
		return nil, err
	}
	out, err := to.wireForm(stored)
	if err != nil {
		return nil, err
	}
	return toUnstructured(out)
}

// builtinKind returns the built-in Resource of a kind in a version, nil
// when none is served.
func (s *Server) builtinKind(gvk schema.GroupVersionKind) *Resource {
	for _, r := range s.byGV[gvk.GroupVersion().String()] {
		if r.Kind == gvk.Kind {
			return r
		}
	}
	return nil
}
