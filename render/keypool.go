package render

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"runtime"
	"sync"
	"sync/atomic"
)

// keyPool generates RSA keys of one size ahead of need, in the background,
// for the template functions that draw a fresh random key on every call
// (genCA, genSelfSignedCert, genSignedCert, genPrivateKey). Generating a
// key is most of what those functions cost; their output is random in Helm
// too, so a key made a moment earlier, on another core, is as good as one
// made during the call. Every key is handed out at most once.
//
// A pool holds at most the number of keys asked for with want. With
// refill set (a pool of a Cache, serving repeated renders) each key taken
// is replaced; otherwise the pool generates what it was asked for and
// stops. stop ends the workers; keys not handed out are dropped.
type keyPool struct {
	bits   int
	refill bool

	keys   chan *rsa.PrivateKey
	orders chan struct{}
	done   chan struct{}
	// unclaimed counts keys ordered (made or being made) that no caller
	// has claimed yet.
	unclaimed atomic.Int64

	mu      sync.Mutex
	ordered int // total keys the pool keeps (its target)
	workers int
	stopped bool
}

// keyPoolMax bounds the keys a pool keeps ahead.
const keyPoolMax = 8

// newKeyPool returns an idle pool of keys of the given size.
func newKeyPool(bits int, refill bool) *keyPool {
	return &keyPool{
		bits:   bits,
		refill: refill,
		keys:   make(chan *rsa.PrivateKey, keyPoolMax),
		orders: make(chan struct{}, keyPoolMax),
		done:   make(chan struct{}),
	}
}

// want raises the number of keys the pool keeps ahead to n (at most
// keyPoolMax) and starts generating the missing ones.
func (p *keyPool) want(n int) {
	n = min(n, keyPoolMax)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped || n <= p.ordered {
		return
	}
	more := n - p.ordered
	p.ordered = n
	for range more {
		p.order()
	}
	for p.workers < min(n, runtime.GOMAXPROCS(0)) {
		p.workers++
		go p.work()
	}
}

// order asks the workers for one more key.
func (p *keyPool) order() {
	p.unclaimed.Add(1)
	select {
	case p.orders <- struct{}{}:
	default:
		// Cannot happen: orders never exceed the pool's bound.
		p.unclaimed.Add(-1)
	}
}

// work generates keys while there are orders, until the pool stops.
func (p *keyPool) work() {
	for {
		select {
		case <-p.done:
			return
		case <-p.orders:
		}
		k, err := rsa.GenerateKey(rand.Reader, p.bits)
		for err != nil {
			// Only a failing random source makes this fail; a
			// caller may be waiting for the key, so try again.
			select {
			case <-p.done:
				return
			default:
			}
			k, err = rsa.GenerateKey(rand.Reader, p.bits)
		}
		select {
		case p.keys <- k:
		case <-p.done:
			return
		}
	}
}

// take returns a key no one else has had: one generated ahead, or one
// being generated (waiting for it rather than competing with the workers
// for the processors), or, when none is coming, one generated now.
func (p *keyPool) take() (*rsa.PrivateKey, error) {
	if p.unclaimed.Add(-1) >= 0 {
		select {
		case k := <-p.keys:
			p.replace()
			return k, nil
		case <-p.done:
		}
	} else {
		p.unclaimed.Add(1)
	}
	return rsa.GenerateKey(rand.Reader, p.bits)
}

// replace orders a key for the one taken, if the pool refills.
func (p *keyPool) replace() {
	if !p.refill {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.stopped {
		p.order()
	}
}

// stop ends the workers; it may be called more than once.
func (p *keyPool) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.stopped {
		p.stopped = true
		close(p.done)
	}
}

// takePEM returns a fresh key PEM-encoded as sprig encodes RSA keys: an
// "RSA PRIVATE KEY" block of the PKCS #1 form.
func (p *keyPool) takePEM() (string, error) {
	k, err := p.take()
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})), nil
}
