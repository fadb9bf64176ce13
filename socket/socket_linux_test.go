//go:build linux && !overlap_portable

// Linux-only contract tests: spurious epoll wake-ups and custom transports.

package socket

import (
	"errors"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/overlap-go/overlap/engine"
	"golang.org/x/sys/unix"
)

func newTestEngine(t *testing.T) *engine.Engine {
	e, err := engine.New(engine.Config{Loops: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func socketPair(t *testing.T) (int, int) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	return fds[0], fds[1]
}

// A wake-up with no data behind it never completes a receive (c-pal
// completes it with 0 bytes).
func TestSpuriousWakeupCompletesNothing(t *testing.T) {
	e := newTestEngine(t)
	a, b := socketPair(t)
	defer unix.Close(b)
	s := New(e, nil)
	if err := s.OpenFD(a, func(error) {}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := make(chan int, 1)
	if err := s.Receive([][]byte{make([]byte, 4)}, func(n int, err error) { got <- n }); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	s.loop.Schedule(taskFunc(func() {
		for i := 0; i < 100; i++ {
			s.OnEvents(unix.EPOLLIN | unix.EPOLLOUT)
		}
		close(done)
	}))
	<-done
	// Let the loop run whatever the fake events queued, then look.
	flushed := make(chan struct{})
	s.loop.Schedule(taskFunc(func() { close(flushed) }))
	<-flushed
	select {
	case n := <-got:
		t.Fatalf("spurious wake-up completed a receive with %d bytes", n)
	default:
	}
	unix.Write(b, []byte("real"))
	select {
	case n := <-got:
		if n != 4 {
			t.Fatalf("n=%d", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("real data never completed the receive")
	}
}

type taskFunc func()

func (f taskFunc) RunTask() { f() }

// xorTransport stands in for a TLS-like wrapper: it transforms bytes on
// the way in and out, over the real descriptor.
type xorTransport struct {
	fd          int
	sent, recvd atomic.Int64
	eagains     atomic.Int64
}

func (x *xorTransport) Send(p []byte) (int, error) {
	q := make([]byte, len(p))
	for i := range p {
		q[i] = p[i] ^ 0x5a
	}
	n, err := unix.Write(x.fd, q)
	if n > 0 {
		x.sent.Add(int64(n))
	}
	return n, err
}

func (x *xorTransport) Recv(p []byte) (int, error) {
	n, err := unix.Read(x.fd, p)
	if errors.Is(err, syscall.EAGAIN) {
		x.eagains.Add(1)
	}
	for i := 0; i < n; i++ {
		p[i] ^= 0x5a
	}
	if n > 0 {
		x.recvd.Add(int64(n))
	}
	return max(n, 0), err
}

func TestCustomTransport(t *testing.T) {
	e := newTestEngine(t)
	a, b := socketPair(t)
	defer unix.Close(b)
	x := &xorTransport{fd: a}
	s := New(e, &Options{Transport: x})
	if err := s.OpenFD(a, func(error) {}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sent := make(chan error, 1)
	if err := s.Send([][]byte{[]byte("he"), []byte("llo")}, func(err error) { sent <- err }); err != nil {
		t.Fatal(err)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	raw := make([]byte, 5)
	if n, _ := unix.Read(b, raw); n != 5 || string(xor(raw)) != "hello" {
		t.Fatalf("peer read %q, want hello through the transport", raw)
	}
	got := make(chan string, 2)
	b1, b2 := make([]byte, 2), make([]byte, 8)
	if err := s.Receive([][]byte{b1, b2}, func(n int, err error) { got <- string(b1) + string(b2[:n-2]) }); err != nil {
		t.Fatal(err)
	}
	if err := s.ReceiveLent(func(p []byte, err error) { got <- string(p) }); err != nil {
		t.Fatal(err)
	}
	unix.Write(b, xor([]byte("world")))
	if p := <-got; p != "world" {
		t.Fatalf("scatter receive through the transport got %q", p)
	}
	unix.Write(b, xor([]byte("!")))
	select {
	case p := <-got:
		if p != "!" {
			t.Fatalf("lent receive got %q", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no receive through the transport")
	}
	if x.sent.Load() != 5 || x.recvd.Load() != 6 {
		t.Fatalf("transport saw %d sent, %d received", x.sent.Load(), x.recvd.Load())
	}
}

func xor(p []byte) []byte {
	q := make([]byte, len(p))
	for i := range p {
		q[i] = p[i] ^ 0x5a
	}
	return q
}
