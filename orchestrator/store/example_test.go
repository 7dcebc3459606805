package store_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"pkg.dev/pkg/orchestrator/store"
)

// Example shows the life of one object: create, a conditional update, a
// stale update refused with a conflict, the watch events, and a list.
func Example() {
	dir, err := os.MkdirTemp("", "store-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	s, err := store.Open(ctx, dir, store.Options{SealedPrefixes: []string{"/registry/secrets/"}})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	w, err := s.Watch(ctx, "/registry/configmaps/", 0)
	if err != nil {
		log.Fatal(err)
	}
	defer w.Stop()

	kv, err := s.Create(ctx, "/registry/configmaps/default/app", []byte(`{"a":"1"}`))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := s.Update(ctx, kv.Key, []byte(`{"a":"2"}`), kv.ModRev); err != nil {
		log.Fatal(err)
	}
	_, err = s.Update(ctx, kv.Key, []byte(`{"a":"3"}`), kv.ModRev) // kv.ModRev is stale now
	fmt.Println("stale update conflicts:", errors.Is(err, store.ErrConflict))

	if _, err := s.Create(ctx, "/registry/secrets/default/db", []byte(`{"password":"hunter2"}`)); err != nil {
		log.Fatal(err)
	}
	for range 2 {
		ev := <-w.Events()
		fmt.Println(ev.Type, ev.Rev, string(ev.Object.Value))
	}
	res, err := s.List(ctx, "/registry/", store.ListOptions{})
	if err != nil {
		log.Fatal(err)
	}
	for _, item := range res.Items {
		fmt.Println(item.Key, item.ModRev, string(item.Value))
	}
	fmt.Println("list revision", res.Rev)
	// Output:
	// stale update conflicts: true
	// ADDED 2 {"a":"1"}
	// MODIFIED 3 {"a":"2"}
	// /registry/configmaps/default/app 3 {"a":"2"}
	// /registry/secrets/default/db 4 {"password":"hunter2"}
	// list revision 4
}
