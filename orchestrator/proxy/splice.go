package proxy

import (
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// A splicer joins the two TCP connections of a forwarded connection (the
// client's, accepted on a node port, and the one dialled to the Pod)
// inside the kernel, so that a request and its answer cross the
// orchestrator without waking it. A relay in user space costs each
// request two wake-ups of the orchestrator's threads, four system calls
// and two copies; on a loaded two-core machine that is most of the
// latency a node port adds (see docs/benchmarks.md).
//
// The kernel's tool for it is a BPF sockmap: both sockets go into a
// sock hash whose stream verdict program runs for every segment either
// socket receives and hands it to the other socket's send path. Two
// things the kernel does not do are done here:
//
//   - Back-pressure. A redirected segment is acknowledged to its sender
//     at once and waits in the peer's queue, however slowly the peer's
//     reader takes it, so a fast sender and a slow reader would grow
//     kernel memory without bound. Each direction therefore has a
//     credit of budget bytes; the program spends it on every redirect,
//     and when it runs out the program passes segments up to the relay
//     instead, which waits until the kernel's queue has been sent before
//     it writes them on with an ordinary blocking write, and then grants
//     a new credit. Once the relay has passed on every byte that went
//     through it, segments are redirected again. Order is kept because
//     the program redirects only while nothing passed to the relay is
//     left unwritten, and the relay writes only after everything
//     redirected has been sent.
//   - Half-close. A FIN is not data: the relay reads it as end of file
//     and shuts the peer's sending side, after the kernel's queue for the
//     peer has been sent (a shutdown before it would lose the tail).
//
// "Sent" is read from TCP_INFO (bytes acknowledged) plus SIOCOUTQ (bytes
// written but not yet acknowledged): together, every byte written to the
// socket since it was joined.
type splicer struct {
	verdicts *ebpf.Map // sock hash whose members run the verdict program
	peers    *ebpf.Map // socket cookie → the other socket of its pair
	slots    *ebpf.Map // socket cookie → index into state
	state    *ebpf.Map // per-direction counters, mapped into this process
	prog     *ebpf.Program
	mem      []byte

	mu     sync.Mutex
	free   []uint32
	closed bool
	live   map[*net.TCPConn]struct{} // joined sockets, closed by close
	// Bytes of finished pairs that the program redirected in the kernel
	// and that went through the relay, for tests and debugging.
	redirected, relayed atomic.Int64
	pairs               atomic.Int64   // joined pairs finished, counted after the bytes
	wg                  sync.WaitGroup // joined pairs still relaying
}

const (
	spliceSlots = 8192 // directions, two per connection
	// spliceBudget bounds the bytes a direction may have queued in the
	// kernel for a peer that does not read.
	spliceBudget = 1 << 20
	// The layout of one direction's counters, each an int64.
	offCredit     = 0  // bytes the program may still redirect
	offPassed     = 8  // bytes the program passed up to the relay
	offWritten    = 16 // of those, bytes the relay has written on
	offRedirected = 24 // bytes the program redirected
	slotSize      = 32
)

// newSplicer loads the verdict program. It fails where BPF is not
// available (no privileges, an old kernel), and the proxy then relays
// in user space.
func newSplicer() (*splicer, error) {
	s, err := loadSplicer()
	if errors.Is(err, unix.EPERM) {
		// Kernels before 5.11 charge BPF maps and programs to
		// RLIMIT_MEMLOCK. It is raised for the load and put back after,
		// so that the containers the orchestrator starts inherit the
		// limit it had. (cilium/ebpf's rlimit package is not used: it
		// probes the kernel at the start of every pkg command.)
		var old unix.Rlimit
		if unix.Getrlimit(unix.RLIMIT_MEMLOCK, &old) == nil &&
			unix.Setrlimit(unix.RLIMIT_MEMLOCK, &unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}) == nil {
			s, err = loadSplicer()
			_ = unix.Setrlimit(unix.RLIMIT_MEMLOCK, &old)
		}
	}
	if errors.Is(err, unix.EPERM) {
		return nil, fmt.Errorf("joining sockets in the kernel needs root (CAP_BPF and CAP_NET_ADMIN): %w", err)
	}
	return s, err
}

func loadSplicer() (*splicer, error) {
	s := &splicer{live: map[*net.TCPConn]struct{}{}}
	var err error
	mk := func(spec *ebpf.MapSpec) *ebpf.Map {
		if err != nil {
			return nil
		}
		var m *ebpf.Map
		m, err = ebpf.NewMap(spec)
		return m
	}
	s.verdicts = mk(&ebpf.MapSpec{Name: "pkg_splice", Type: ebpf.SockHash, KeySize: 8, ValueSize: 8, MaxEntries: spliceSlots})
	s.peers = mk(&ebpf.MapSpec{Name: "pkg_peers", Type: ebpf.SockHash, KeySize: 8, ValueSize: 8, MaxEntries: spliceSlots})
	s.slots = mk(&ebpf.MapSpec{Name: "pkg_slots", Type: ebpf.Hash, KeySize: 8, ValueSize: 4, MaxEntries: spliceSlots})
	s.state = mk(&ebpf.MapSpec{Name: "pkg_credit", Type: ebpf.Array, KeySize: 4, ValueSize: slotSize,
		MaxEntries: spliceSlots, Flags: unix.BPF_F_MMAPABLE})
	if err != nil {
		s.close()
		return nil, fmt.Errorf("creating BPF maps: %w", err)
	}
	s.prog, err = ebpf.NewProgram(&ebpf.ProgramSpec{
		Name: "pkg_splice", Type: ebpf.SkSKB, AttachType: ebpf.AttachSkSKBVerdict, License: "GPL",
		Instructions: verdictProgram(s.slots, s.state, s.peers),
	})
	if err != nil {
		s.close()
		return nil, fmt.Errorf("loading the verdict program: %w", err)
	}
	if err := link.RawAttachProgram(link.RawAttachProgramOptions{
		Target: s.verdicts.FD(), Program: s.prog, Attach: ebpf.AttachSkSKBVerdict,
	}); err != nil {
		s.close()
		return nil, fmt.Errorf("attaching the verdict program: %w", err)
	}
	size := (spliceSlots*slotSize + os.Getpagesize() - 1) &^ (os.Getpagesize() - 1)
	s.mem, err = unix.Mmap(s.state.FD(), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		s.close()
		return nil, fmt.Errorf("mapping the counters: %w", err)
	}
	for i := uint32(spliceSlots); i > 0; i-- {
		s.free = append(s.free, i-1)
	}
	return s, nil
}

// lookupOrPass looks up the key stored at fp+off on the stack in m and
// passes the segment when it is missing; R0 is then the value's address.
func lookupOrPass(m *ebpf.Map, off int16) asm.Instructions {
	return asm.Instructions{
		asm.LoadMapPtr(asm.R1, m.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, int32(off)),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "pass"),
	}
}

// verdictProgram runs for every segment a joined socket receives:
//
//	if len == 0: pass                                 (a FIN)
//	slot = slots[cookie]; st = state[slot]            (none: pass)
//	if st.passed == st.written && st.credit >= len:
//	    st.credit -= len
//	    if redirect(peers[cookie]) succeeds: st.redirected += len
//	    return its verdict
//	st.passed += len; pass
func verdictProgram(slots, state, peers *ebpf.Map) asm.Instructions {
	const sk = asm.R6 // the segment's context
	const st = asm.R7 // this direction's counters
	const n = asm.R8  // the segment's length
	return slices.Concat(asm.Instructions{
		asm.Mov.Reg(sk, asm.R1),
		asm.LoadMem(n, sk, 0, asm.Word), // __sk_buff.len
		// A FIN arrives as a segment of no data; redirected, the peer's
		// send of nothing would count as a broken pipe. It is passed, and
		// the relay reads it as the end of file.
		asm.JEq.Imm(n, 0, "pass"),
		asm.FnGetSocketCookie.Call(),
		asm.StoreMem(asm.RFP, -8, asm.R0, asm.DWord),
	}, lookupOrPass(slots, -8), asm.Instructions{
		asm.LoadMem(asm.R1, asm.R0, 0, asm.Word),
		asm.StoreMem(asm.RFP, -12, asm.R1, asm.Word),
	}, lookupOrPass(state, -12), asm.Instructions{
		asm.Mov.Reg(st, asm.R0),
		asm.LoadMem(asm.R1, st, offPassed, asm.DWord),
		asm.LoadMem(asm.R2, st, offWritten, asm.DWord),
		asm.JNE.Reg(asm.R1, asm.R2, "up"),
		asm.LoadMem(asm.R1, st, offCredit, asm.DWord),
		asm.JSLT.Reg(asm.R1, n, "up"),
		asm.Sub.Reg(asm.R1, n),
		asm.StoreMem(st, offCredit, asm.R1, asm.DWord),
		asm.Mov.Reg(asm.R1, sk),
		asm.LoadMapPtr(asm.R2, peers.FD()),
		asm.Mov.Reg(asm.R3, asm.RFP),
		asm.Add.Imm(asm.R3, -8),
		asm.Mov.Imm(asm.R4, 0),
		asm.FnSkRedirectHash.Call(),
		asm.JNE.Imm(asm.R0, 1, "out"), // SK_PASS means the redirect is set
		asm.AddAtomic.Mem(st, n, asm.DWord, offRedirected),
		asm.Ja.Label("out"),
		asm.AddAtomic.Mem(st, n, asm.DWord, offPassed).WithSymbol("up"),
		asm.Mov.Imm(asm.R0, 1).WithSymbol("pass"),
		asm.Return().WithSymbol("out"),
	})
}

// close ends the relays still running and frees the maps.
func (s *splicer) close() {
	s.mu.Lock()
	s.closed = true
	for c := range s.live {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	if s.mem != nil {
		_ = unix.Munmap(s.mem)
	}
	if s.prog != nil {
		_ = s.prog.Close()
	}
	for _, m := range []*ebpf.Map{s.verdicts, s.peers, s.slots, s.state} {
		if m != nil {
			_ = m.Close()
		}
	}
}

// counter is one of a direction's counters in the shared memory.
func (s *splicer) counter(slot uint32, off int) *int64 {
	return (*int64)(unsafe.Pointer(&s.mem[int(slot)*slotSize+off]))
}

// direction is one way of a joined pair: what from receives goes to to.
type direction struct {
	s        *splicer
	slot     uint32
	from, to *net.TCPConn
	toBase   int64 // bytes written to `to` before it was joined
}

// join relays between c and u in the kernel until both directions end.
// It returns false, having changed nothing, when the pair cannot be
// joined (the maps are full, a socket is not TCP); the caller then
// relays in user space.
func (s *splicer) join(c, u net.Conn) bool {
	tc, ok1 := c.(*net.TCPConn)
	tu, ok2 := u.(*net.TCPConn)
	if !ok1 || !ok2 {
		return false
	}
	fc, fu := rawFD(tc), rawFD(tu)
	if fc < 0 || fu < 0 {
		return false
	}
	kc, err1 := unix.GetsockoptUint64(fc, unix.SOL_SOCKET, unix.SO_COOKIE)
	ku, err2 := unix.GetsockoptUint64(fu, unix.SOL_SOCKET, unix.SO_COOKIE)
	bc, err3 := sentBytes(tc)
	bu, err4 := sentBytes(tu)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return false
	}
	s.mu.Lock()
	if s.closed || len(s.free) < 2 {
		s.mu.Unlock()
		return false
	}
	sc, su := s.free[len(s.free)-1], s.free[len(s.free)-2]
	s.free = s.free[:len(s.free)-2]
	s.wg.Add(1)
	s.live[tc], s.live[tu] = struct{}{}, struct{}{}
	s.mu.Unlock()
	defer s.wg.Done()
	for _, slot := range []uint32{sc, su} {
		atomic.StoreInt64(s.counter(slot, offPassed), 0)
		atomic.StoreInt64(s.counter(slot, offWritten), 0)
		atomic.StoreInt64(s.counter(slot, offRedirected), 0)
		atomic.StoreInt64(s.counter(slot, offCredit), spliceBudget)
	}
	release := func(joined bool) {
		if joined {
			var redirected, relayed int64
			for _, slot := range []uint32{sc, su} {
				redirected += atomic.LoadInt64(s.counter(slot, offRedirected))
				relayed += atomic.LoadInt64(s.counter(slot, offWritten))
			}
			s.redirected.Add(redirected)
			s.relayed.Add(relayed)
			defer s.pairs.Add(1)
		}
		_ = s.slots.Delete(kc)
		_ = s.slots.Delete(ku)
		_ = s.peers.Delete(kc)
		_ = s.peers.Delete(ku)
		s.mu.Lock()
		s.free = append(s.free, sc, su)
		delete(s.live, tc)
		delete(s.live, tu)
		s.mu.Unlock()
	}
	// The peers and the counters first: a socket whose segments reach the
	// program must find both. Until a socket is in verdicts nothing of
	// this acts on it, so a failure here leaves the pair to the caller.
	if err := errors.Join(
		s.slots.Update(kc, sc, ebpf.UpdateAny), s.slots.Update(ku, su, ebpf.UpdateAny),
		s.peers.Update(kc, uint64(fu), ebpf.UpdateAny), s.peers.Update(ku, uint64(fc), ebpf.UpdateAny),
	); err != nil {
		release(false)
		return false
	}
	if err := s.verdicts.Update(kc, uint64(fc), ebpf.UpdateAny); err != nil {
		release(false)
		return false
	}
	// From here on the pair is ours whatever happens: a socket left out
	// of verdicts just has all it receives read and written on below.
	_ = s.verdicts.Update(ku, uint64(fu), ebpf.UpdateAny)
	// Segments that arrived before a socket was joined wait in its queue
	// until something wakes the program; raising the low-water mark
	// (to its default) makes the kernel look at the queue now.
	_ = unix.SetsockoptInt(fc, unix.SOL_SOCKET, unix.SO_RCVLOWAT, 1)
	_ = unix.SetsockoptInt(fu, unix.SOL_SOCKET, unix.SO_RCVLOWAT, 1)

	var wg sync.WaitGroup
	wg.Add(2)
	for _, d := range []*direction{
		{s: s, slot: sc, from: tc, to: tu, toBase: bu},
		{s: s, slot: su, from: tu, to: tc, toBase: bc},
	} {
		go func() { defer wg.Done(); d.pump() }()
	}
	wg.Wait()
	// Closing the sockets takes them out of the sock hashes; the slots
	// may be reused once the cookies no longer lead to them.
	tc.Close()
	tu.Close()
	release(true)
	return true
}

// pump writes on what the program passed up, and ends the direction
// when from reaches its end.
//
// While the kernel carries the data the pump only waits, on a small
// buffer; a large one is taken from a pool while data keeps coming up,
// so an idle joined connection holds 4 KiB, not 128.
func (d *direction) pump() {
	small := make([]byte, 2<<10)
	var big *[]byte
	defer func() {
		if big != nil {
			pumpBuffers.Put(big)
		}
	}()
	for {
		buf := small
		if big != nil {
			buf = *big
		}
		n, err := d.from.Read(buf)
		if n > 0 {
			if d.drain() != nil {
				break
			}
			if _, werr := d.to.Write(buf[:n]); werr != nil {
				break
			}
			atomic.StoreInt64(d.s.counter(d.slot, offCredit), spliceBudget)
			atomic.AddInt64(d.s.counter(d.slot, offWritten), int64(n))
		}
		if err != nil {
			// The end, or a reset: either way what was already taken from
			// the sender still goes to the peer, as the copy in user space
			// writes what it read before it stops.
			break
		}
		// A full read means more is coming up: a large buffer for the
		// next; a short one gives it back.
		if n == len(buf) && big == nil {
			big = pumpBuffers.Get().(*[]byte)
		} else if n < len(buf) && big != nil {
			pumpBuffers.Put(big)
			big = nil
		}
	}
	if d.drain() == nil {
		_ = d.to.CloseWrite()
	}
}

var pumpBuffers = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// drain waits until everything the program redirected and the relay
// wrote has gone into the peer's socket, giving up (and resetting both
// connections) when the peer has taken nothing for half a minute.
func (d *direction) drain() error {
	want := atomic.LoadInt64(d.s.counter(d.slot, offWritten)) + atomic.LoadInt64(d.s.counter(d.slot, offRedirected))
	wait := 20 * time.Microsecond
	last, since := int64(-1), time.Now()
	for {
		got, err := sentBytes(d.to)
		if err != nil {
			return err
		}
		got -= d.toBase
		if got >= want {
			return nil
		}
		if got != last {
			last, since = got, time.Now()
		} else if time.Since(since) > 30*time.Second {
			d.to.Close()
			d.from.Close()
			return fmt.Errorf("peer took nothing for 30s")
		}
		time.Sleep(wait)
		wait = min(wait*2, 5*time.Millisecond)
	}
}

// sentBytes is every byte written to c so far that the kernel has taken
// into its send queue or already had acknowledged. The acknowledged
// count is read first, so an acknowledgement between the two reads can
// only make the sum short, never long.
func sentBytes(c *net.TCPConn) (int64, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int64
	var serr error
	if err := rc.Control(func(fd uintptr) {
		ti, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
		if err != nil {
			serr = err
			return
		}
		q, err := unix.IoctlGetInt(int(fd), unix.SIOCOUTQ)
		if err != nil {
			serr = err
			return
		}
		n = int64(ti.Bytes_acked) + int64(q)
	}); err != nil {
		return 0, err
	}
	return n, serr
}

func rawFD(c *net.TCPConn) int {
	fd := -1
	if rc, err := c.SyscallConn(); err == nil {
		_ = rc.Control(func(f uintptr) { fd = int(f) })
	}
	return fd
}
