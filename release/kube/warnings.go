package kube

import (
	"context"
	"fmt"
	"io"
	"sync"

	"pkg.dev/pkg/release"
)

// subjectKey marks a request's context with the resource it writes.
type subjectKey struct{}

// withSubject returns ctx for the requests that create, patch or replace
// r, so that a warning the API server answers them with (an unknown
// field, a deprecated API version) can name r and its template.
func withSubject(ctx context.Context, r *release.Resource) context.Context {
	return context.WithValue(ctx, subjectKey{}, r)
}

// WarningPrinter shows the warnings API servers send with their answers,
// as kubectl shows them ("Warning: ..."), each once. A warning about a
// release's resource names the resource and the template that rendered
// it:
//
//	Warning: Deployment "web" in namespace "default" (web/templates/deployment.yaml): unknown field "spec.replica"
//
// It is a rest.WarningHandlerWithContext.
type WarningPrinter struct {
	w    io.Writer
	mu   sync.Mutex
	seen map[string]bool
}

// NewWarningPrinter returns a WarningPrinter writing to w.
func NewWarningPrinter(w io.Writer) *WarningPrinter {
	return &WarningPrinter{w: w, seen: map[string]bool{}}
}

// HandleWarningHeaderWithContext prints one warning. Only warnings of code
// 299 (the code Kubernetes sends) are shown, as client-go shows them.
func (p *WarningPrinter) HandleWarningHeaderWithContext(ctx context.Context, code int, _ string, text string) {
	if code != 299 || text == "" {
		return
	}
	line := "Warning: " + text
	if r, ok := ctx.Value(subjectKey{}).(*release.Resource); ok && r != nil {
		subject := r.String()
		if r.Source != "" {
			subject += " (" + r.Source + ")"
		}
		line = "Warning: " + subject + ": " + text
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.seen[line] {
		return
	}
	p.seen[line] = true
	fmt.Fprintln(p.w, line)
}
