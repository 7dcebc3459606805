package controllers

import (
	"bytes"
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// DefaultServiceAccount is the ServiceAccount every namespace has, the
// one a Pod that names none runs as.
const DefaultServiceAccount = "default"

// RootCAConfigMap is the ConfigMap in every namespace holding the CA that
// signed the API server's certificate, under RootCAKey, as
// kube-controller-manager's root-ca-cert-publisher writes it.
const (
	RootCAConfigMap = "kube-root-ca.crt"
	RootCAKey       = "ca.crt"
)

// rootCADescription is the annotation Kubernetes puts on the ConfigMap.
const rootCADescription = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."

// namespaceDefaults keeps, in every active namespace, the ServiceAccount
// "default" (the serviceaccount controller) and, when the root CA is
// known, the ConfigMap kube-root-ca.crt (the root-ca-cert-publisher):
// made with the namespace, made again when deleted, put back when
// changed.
type namespaceDefaults struct {
	e      *env
	rootCA []byte
	q      *queue
	ns     corelisters.NamespaceLister
	sas    corelisters.ServiceAccountLister
	cms    corelisters.ConfigMapLister
	synced []cache.InformerSynced
}

func newNamespaceDefaults(e *env, rootCA []byte) *namespaceDefaults {
	c := &namespaceDefaults{e: e, rootCA: rootCA}
	c.q = newQueue(ServiceAccountController, e, c.sync)
	nsInf := e.factory.Core().V1().Namespaces().Informer()
	c.ns = e.factory.Core().V1().Namespaces().Lister()
	_, _ = nsInf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { c.enqueueName(obj) },
		UpdateFunc: func(_, obj any) { c.enqueueName(obj) },
	})
	// Only the objects kept here are watched, not every ServiceAccount
	// and ConfigMap of the cluster.
	named := func(name string) informers.SharedInformerOption {
		return informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", name).String()
		})
	}
	saFactory := informers.NewSharedInformerFactoryWithOptions(e.client, 0, named(DefaultServiceAccount))
	cmFactory := informers.NewSharedInformerFactoryWithOptions(e.client, 0, named(RootCAConfigMap))
	onChange := cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, obj any) { c.enqueueNamespace(obj) },
		DeleteFunc: func(obj any) { c.enqueueNamespace(obj) },
	}
	saInf := saFactory.Core().V1().ServiceAccounts().Informer()
	_, _ = saInf.AddEventHandler(onChange)
	c.sas = saFactory.Core().V1().ServiceAccounts().Lister()
	cmInf := cmFactory.Core().V1().ConfigMaps().Informer()
	_, _ = cmInf.AddEventHandler(onChange)
	c.cms = cmFactory.Core().V1().ConfigMaps().Lister()
	go saInf.Run(e.ctx.Done())
	go cmInf.Run(e.ctx.Done())
	c.synced = []cache.InformerSynced{saInf.HasSynced, cmInf.HasSynced}
	return c
}

// enqueueName queues a Namespace by its name.
func (c *namespaceDefaults) enqueueName(obj any) {
	if ns, ok := obj.(*corev1.Namespace); ok {
		c.q.add(ns.Name)
	}
}

// enqueueNamespace queues the namespace of a ServiceAccount or ConfigMap.
func (c *namespaceDefaults) enqueueNamespace(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	if m, ok := obj.(metav1.Object); ok {
		c.q.add(m.GetNamespace())
	}
}

func (c *namespaceDefaults) run(ctx context.Context) {
	if !cache.WaitForCacheSync(ctx.Done(), c.synced...) {
		return
	}
	c.q.run(ctx, c.e.workers)
}

func (c *namespaceDefaults) sync(ctx context.Context, name string) error {
	ns, err := c.ns.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if ns.Status.Phase == corev1.NamespaceTerminating || ns.DeletionTimestamp != nil {
		return nil
	}
	if _, err := c.sas.ServiceAccounts(name).Get(DefaultServiceAccount); apierrors.IsNotFound(err) {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: DefaultServiceAccount, Namespace: name}}
		if _, err := c.e.client.CoreV1().ServiceAccounts(name).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !ignorable(err) {
			return fmt.Errorf("creating ServiceAccount %s/%s: %w", name, DefaultServiceAccount, err)
		}
	}
	if len(c.rootCA) == 0 {
		return nil
	}
	want := map[string]string{RootCAKey: string(c.rootCA)}
	cm, err := c.cms.ConfigMaps(name).Get(RootCAConfigMap)
	switch {
	case apierrors.IsNotFound(err):
		cm := &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: RootCAConfigMap, Namespace: name,
				Annotations: map[string]string{"kubernetes.io/description": rootCADescription}},
			Data: want,
		}
		if _, err := c.e.client.CoreV1().ConfigMaps(name).Create(ctx, cm, metav1.CreateOptions{}); err != nil && !ignorable(err) {
			return fmt.Errorf("creating ConfigMap %s/%s: %w", name, RootCAConfigMap, err)
		}
	case err != nil:
		return err
	case len(cm.Data) != 1 || !bytes.Equal([]byte(cm.Data[RootCAKey]), c.rootCA) || len(cm.BinaryData) != 0:
		cm = cm.DeepCopy()
		cm.Data, cm.BinaryData = want, nil
		if _, err := c.e.client.CoreV1().ConfigMaps(name).Update(ctx, cm, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("restoring ConfigMap %s/%s: %w", name, RootCAConfigMap, err)
		}
	}
	return nil
}

// ignorable are the create errors that need no retry: the object exists
// already, or its namespace began terminating.
func ignorable(err error) bool {
	return apierrors.IsAlreadyExists(err) || apierrors.IsForbidden(err) || apierrors.IsNotFound(err)
}
