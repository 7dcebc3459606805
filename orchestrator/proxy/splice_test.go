package proxy

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"testing"
	"time"
)

// newTestSplicer loads the verdict program, or skips: it needs root (or
// CAP_BPF and CAP_NET_ADMIN), which CI has.
func newTestSplicer(t *testing.T) *splicer {
	t.Helper()
	s, err := newSplicer()
	if err != nil {
		if os.Geteuid() != 0 {
			t.Skipf("skipping: %v", err)
		}
		t.Fatalf("as root, the splicer should load: %v", err)
	}
	t.Cleanup(s.close)
	return s
}

// relayTo listens on loopback and relays each connection through p to
// one it dials to target, as the proxy does for a node port.
func relayTo(tb testing.TB, p *Proxy, target string) string {
	tb.Helper()
	return listen(tb, func(c net.Conn) {
		defer c.Close()
		u, err := net.Dial("tcp", target)
		if err != nil {
			return
		}
		defer u.Close()
		p.relay(c, u)
	})
}

// spliceRelay is relayTo with the pairs joined by s.
func spliceRelay(t *testing.T, s *splicer, target string) string {
	t.Helper()
	return relayTo(t, &Proxy{splice: s}, target)
}

// digestServer answers each connection, once its client has shut its
// sending side, with the SHA-256 of what it read, then with more.
func digestServer(tb testing.TB, more []byte) string {
	tb.Helper()
	return listen(tb, func(c net.Conn) {
		defer c.Close()
		h := sha256.New()
		if _, err := io.Copy(h, c); err != nil {
			return
		}
		_, _ = c.Write(h.Sum(nil))
		_, _ = c.Write(more)
	})
}

func listen(tb testing.TB, serve func(net.Conn)) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serve(c)
		}
	}()
	return ln.Addr().String()
}

// Requests and answers on a kept-alive connection cross in the kernel,
// the first request included although it was sent before the relay had
// even dialled the Pod.
func TestSpliceCarriesRequestsInTheKernel(t *testing.T) {
	s := newTestSplicer(t)
	echo := listen(t, func(c net.Conn) {
		defer c.Close()
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadBytes('\n')
			if err != nil {
				return
			}
			if _, err := c.Write(append([]byte("echo "), line...)); err != nil {
				return
			}
		}
	})
	addr := spliceRelay(t, s, echo)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	for i := range 200 {
		msg := []byte("request " + string(rune('a'+i%26)) + "\n")
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		got, err := r.ReadBytes('\n')
		if err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		if want := append([]byte("echo "), msg...); !bytes.Equal(got, want) {
			t.Fatalf("answer %d = %q, want %q", i, got, want)
		}
	}
	c.Close()
	waitFor(t, func() bool { return s.pairs.Load() == 1 })
	if s.relayed.Load() != 0 {
		t.Errorf("%d bytes went through the relay in user space; short requests should all cross in the kernel", s.relayed.Load())
	}
	if want := int64(200 * (len("request a\n")*2 + len("echo "))); s.redirected.Load() != want {
		t.Errorf("redirected %d bytes, want %d", s.redirected.Load(), want)
	}
}

// Bulk data crosses whole and in order both ways, and a half-close
// reaches the other side only after the data before it: the client
// sends 48 MiB and shuts its sending side, the server answers with the
// digest of what it read and 24 MiB of its own.
func TestSpliceBulkAndHalfClose(t *testing.T) {
	s := newTestSplicer(t)
	const up, down = 48 << 20, 24 << 20
	back := pattern(2, down)
	srv := digestServer(t, back)
	addr := spliceRelay(t, s, srv)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(60 * time.Second))
	sent := pattern(1, up)
	go func() {
		_, _ = c.Write(sent)
		_ = c.(*net.TCPConn).CloseWrite()
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(sent)
	if len(got) < len(want) || !bytes.Equal(got[:len(want)], want[:]) {
		t.Fatalf("the server did not read what the client sent (answer %d bytes)", len(got))
	}
	if !bytes.Equal(got[len(want):], back) {
		t.Fatalf("the client got %d bytes back, want %d in order", len(got)-len(want), len(back))
	}
	waitFor(t, func() bool { return s.pairs.Load() == 1 })
	if total := s.redirected.Load() + s.relayed.Load(); total != int64(up+down+len(want)) {
		t.Errorf("the relay counted %d bytes, want %d", total, up+down+len(want))
	}
	t.Logf("%d bytes redirected in the kernel, %d through the relay", s.redirected.Load(), s.relayed.Load())
}

// A reader that stops reading holds the writer back: the kernel does
// not take an unbounded amount from a fast sender for a slow reader,
// and what it took arrives whole once the reader reads again.
func TestSpliceHoldsBackAFastSender(t *testing.T) {
	s := newTestSplicer(t)
	accepted := make(chan net.Conn, 1)
	srv := listen(t, func(c net.Conn) { accepted <- c })
	addr := spliceRelay(t, s, srv)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sc := <-accepted
	defer sc.Close()
	data := pattern(3, 256<<20)
	_ = c.SetWriteDeadline(time.Now().Add(3 * time.Second))
	n, err := c.Write(data)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the client wrote %d MiB to a reader that reads nothing without being held back (err %v)", n>>20, err)
	}
	// Socket buffers on both sides and the kernel's queue: some MiB.
	if n > 64<<20 {
		t.Errorf("the client wrote %d MiB before it was held back", n>>20)
	}
	t.Logf("held back after %d KiB", n>>10)
	_ = c.(*net.TCPConn).CloseWrite()
	_ = sc.SetReadDeadline(time.Now().Add(30 * time.Second))
	got, err := io.ReadAll(sc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data[:n]) {
		t.Fatalf("the reader got %d bytes, want the %d written, in order", len(got), n)
	}
}

func pattern(seed uint64, n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, seed))
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for range 200 {
		if ok() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("timed out")
}

// What the kernel redirected reaches the peer before the end of file
// that followed it: many uploads, each shut right after its second
// half is written, all arrive whole. (A connection whose client has
// shut its side before the relay joins it cannot enter a sockmap, which
// takes only established sockets; the relay then copies in user space.)
func TestSpliceEndOfFileAfterTheData(t *testing.T) {
	s := newTestSplicer(t)
	srv := digestServer(t, nil)
	addr := spliceRelay(t, s, srv)
	for i := range 30 {
		data := pattern(uint64(10+i), 64<<10+i*4096)
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write(data[:1024]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond) // the relay joins the pair
		if _, err := c.Write(data[1024:]); err != nil {
			t.Fatal(err)
		}
		_ = c.(*net.TCPConn).CloseWrite()
		got, err := io.ReadAll(c)
		c.Close()
		if err != nil {
			t.Fatal(err)
		}
		if want := sha256.Sum256(data); !bytes.Equal(got, want[:]) {
			t.Fatalf("upload %d (%d bytes) did not arrive whole before its end of file", i, len(data))
		}
	}
	waitFor(t, func() bool { return s.pairs.Load() >= 1 })
	if s.redirected.Load() == 0 {
		t.Error("no upload crossed in the kernel")
	}
}

// BenchmarkRelay times a 100-byte request and its echo on one kept-alive
// loopback connection: directly, through the relay in user space, and
// through sockets joined in the kernel; it reports the median.
//
//	go test ./orchestrator/proxy -run '^$' -bench BenchmarkRelay -benchtime 20000x
func BenchmarkRelay(b *testing.B) {
	s, err := newSplicer()
	if err != nil {
		b.Skipf("skipping: %v", err)
	}
	defer s.close()
	echo := listen(b, func(c net.Conn) { defer c.Close(); _, _ = io.Copy(c, c) })
	for _, p := range []struct{ name, addr string }{
		{"direct", echo},
		{"userspace", relayTo(b, &Proxy{}, echo)},
		{"kernel", relayTo(b, &Proxy{splice: s}, echo)},
	} {
		b.Run(p.name, func(b *testing.B) {
			c, err := net.Dial("tcp", p.addr)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			msg, buf := make([]byte, 100), make([]byte, 100)
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				if _, err := c.Write(msg); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(c, buf); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1000, "p50-µs")
		})
	}
}
