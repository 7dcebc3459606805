package controllers

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Every namespace gets the ServiceAccount default and the ConfigMap
// kube-root-ca.crt; both come back when deleted, and the ConfigMap's data
// is put back when changed.
func TestNamespaceDefaults(t *testing.T) {
	t.Parallel()
	ca := []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
	client, ns := start(t, Options{Controllers: []string{ServiceAccountController}, RootCA: ca})
	ctx := context.Background()
	present := func(what string) {
		t.Helper()
		eventually(t, 10*time.Second, what, func() (bool, error) {
			if _, err := client.CoreV1().ServiceAccounts(ns).Get(ctx, DefaultServiceAccount, metav1.GetOptions{}); err != nil {
				return false, err
			}
			cm, err := client.CoreV1().ConfigMaps(ns).Get(ctx, RootCAConfigMap, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			return cm.Data[RootCAKey] == string(ca) && len(cm.Data) == 1, nil
		})
	}
	present("the default ServiceAccount and kube-root-ca.crt in a new namespace")
	for _, sys := range []string{"default", "kube-system"} {
		if _, err := client.CoreV1().ServiceAccounts(sys).Get(ctx, DefaultServiceAccount, metav1.GetOptions{}); err != nil {
			eventually(t, 10*time.Second, "the default ServiceAccount in "+sys, func() (bool, error) {
				_, err := client.CoreV1().ServiceAccounts(sys).Get(ctx, DefaultServiceAccount, metav1.GetOptions{})
				return err == nil, err
			})
		}
	}

	if err := client.CoreV1().ServiceAccounts(ns).Delete(ctx, DefaultServiceAccount, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := client.CoreV1().ConfigMaps(ns).Delete(ctx, RootCAConfigMap, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	present("both made again after deletion")

	cm, err := client.CoreV1().ConfigMaps(ns).Get(ctx, RootCAConfigMap, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm.Data = map[string]string{RootCAKey: "tampered", "extra": "x"}
	if _, err := client.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	present("kube-root-ca.crt put back after a change")
}
