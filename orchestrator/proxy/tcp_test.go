package proxy

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

// blackHole is a network where one address never answers, as a deleted
// Pod's address does, and every other address connects.
type blackHole struct{ dead string }

func (blackHole) Path() string            { return "" }
func (blackHole) Do(f func() error) error { return f() }
func (b blackHole) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	if address == b.dead {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	c, s := net.Pipe()
	go func() { <-ctx.Done(); s.Close() }()
	return c, nil
}

// An endpoint that does not answer costs a bounded attempt, not the
// whole connection's budget, so the next endpoint is still tried within
// a client's usual timeout; the last endpoint gets all that is left.
func TestDialAttemptBoundsAllButTheLast(t *testing.T) {
	n := blackHole{dead: "10.0.0.9:80"}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	start := time.Now()
	_, err := dialAttempt(ctx, n, "10.0.0.9:80", 0, false)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("first attempt at a dead endpoint: %v, want a deadline", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("first attempt at a dead endpoint took %v; it should give up long before the 5 s budget", took)
	}
	if ctx.Err() != nil {
		t.Fatal("the attempt spent the whole connection's budget")
	}
	c, err := dialAttempt(ctx, n, "10.0.0.2:80", 1, false)
	if err != nil {
		t.Fatalf("second endpoint: %v", err)
	}
	c.Close()

	// The last attempt is not cut short: with a short parent deadline
	// it ends at the parent's deadline, not an attempt's own.
	short, cancel2 := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel2()
	start = time.Now()
	if _, err := dialAttempt(short, n, "10.0.0.9:80", 0, true); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("last attempt: %v", err)
	}
	if took := time.Since(start); took < 500*time.Millisecond {
		t.Errorf("last attempt gave up after %v, before the connection's deadline", took)
	}
}
