// Tests for every point of CONTRACT.md, on whichever backend is compiled
// in (scripts/test runs them on both).

package socket_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/overlap-go/overlap/engine"
	"github.com/overlap-go/overlap/socket"
)

// stdConn returns a connected std net.Conn and its peer.
func stdConn(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	p, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); p.Close() })
	return c, p
}

func TestOpenContract(t *testing.T) {
	e := newEngine(t, engine.Config{Loops: 1})
	s := socket.New(e, nil)
	if err := s.Open(nil, func(error) { t.Error("callback on bad arguments") }); !errors.Is(err, socket.ErrInvalid) {
		t.Fatalf("nil conn: %v", err)
	}
	c, peer := stdConn(t)
	if err := s.Open(c, nil); !errors.Is(err, socket.ErrInvalid) {
		t.Fatalf("nil callback: %v", err)
	}
	opened := false
	if err := s.Open(c, func(err error) {
		if err != nil {
			t.Errorf("open: %v", err)
		}
		opened = true
	}); err != nil {
		t.Fatal(err)
	}
	if !opened {
		t.Fatal("Open returned before reporting OpenOK")
	}
	if s.State() != socket.Open {
		t.Fatalf("state %v", s.State())
	}
	c2, _ := stdConn(t)
	if err := s.Open(c2, func(error) { t.Error("callback when already open") }); err == nil {
		t.Fatal("Open on an open socket succeeded")
	}
	// The socket works: bytes from the peer arrive.
	peer.Write([]byte("hi"))
	if got := receiveAll(t, s, 2); string(got) != "hi" {
		t.Fatalf("got %q", got)
	}
	s.Close()
	if err := s.Open(c2, func(error) { t.Error("callback on reopen") }); !errors.Is(err, socket.ErrReopen) {
		t.Fatalf("reopen: %v", err)
	}
}

func TestArgumentsAndStateFailSynchronously(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *engine.Engine) {
		var calls atomic.Int32
		sendCB := func(error) { calls.Add(1) }
		recvCB := func(int, error) { calls.Add(1) }
		noteCB := func(error) { calls.Add(1) }
		buf := []byte{1}
		closed := socket.New(e, nil)
		if err := closed.Send([][]byte{buf}, sendCB); !errors.Is(err, socket.ErrNotOpen) {
			t.Errorf("send on new socket: %v", err)
		}
		if err := closed.Receive([][]byte{buf}, recvCB); !errors.Is(err, socket.ErrNotOpen) {
			t.Errorf("receive on new socket: %v", err)
		}
		a, _ := pair(t, e, nil)
		bad := []struct {
			name string
			call func() error
		}{
			{"send nil callback", func() error { return a.Send([][]byte{buf}, nil) }},
			{"send no buffers", func() error { return a.Send(nil, sendCB) }},
			{"send empty buffer", func() error { return a.Send([][]byte{buf, {}}, sendCB) }},
			{"send nil buffer", func() error { return a.Send([][]byte{nil}, sendCB) }},
			{"receive nil callback", func() error { return a.Receive([][]byte{buf}, nil) }},
			{"receive no buffers", func() error { return a.Receive([][]byte{}, recvCB) }},
			{"receive empty buffer", func() error { return a.Receive([][]byte{{}}, recvCB) }},
			{"receive lent nil callback", func() error { return a.ReceiveLent(nil) }},
			{"notify nil callback", func() error { return a.NotifyIO(socket.Readable, nil) }},
			{"notify bad kind", func() error { return a.NotifyIO(7, noteCB) }},
		}
		for _, b := range bad {
			if err := b.call(); !errors.Is(err, socket.ErrInvalid) {
				t.Errorf("%s: got %v, want ErrInvalid", b.name, err)
			}
		}
		a.Close()
		if err := a.Send([][]byte{buf}, sendCB); !errors.Is(err, socket.ErrNotOpen) {
			t.Errorf("send after close: %v", err)
		}
		if err := a.Receive([][]byte{buf}, recvCB); !errors.Is(err, socket.ErrNotOpen) {
			t.Errorf("receive after close: %v", err)
		}
		if err := a.NotifyIO(socket.Writable, noteCB); !errors.Is(err, socket.ErrNotOpen) {
			t.Errorf("notify after close: %v", err)
		}
		if n := calls.Load(); n != 0 {
			t.Fatalf("%d callbacks ran for rejected calls", n)
		}
	})
}

func TestCloseIsIdempotentAndSafeInsideCallbacks(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *engine.Engine) {
		a, b := pair(t, e, nil)
		done := make(chan error, 1)
		if err := b.Receive([][]byte{make([]byte, 4)}, func(n int, err error) {
			b.Close() // c-pal deadlocks here
			b.Close()
			done <- err
		}); err != nil {
			t.Fatal(err)
		}
		sendSync(t, a, []byte("ping"))
		if err := recv(t, done, "callback that closes"); err != nil {
			t.Fatal(err)
		}
		b.Close()
		b.Close()
		if st := b.State(); st != socket.Closed {
			t.Fatalf("state %v after Close", st)
		}
	})
}

// Every accepted operation completes exactly once, and none after Close
// has returned to a caller outside the engine, however the close races the
// traffic.
func TestExactlyOnceAndNothingAfterClose(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *engine.Engine) {
		for round := 0; round < 50; round++ {
			a, b := pair(t, e, nil)
			var accepted, completed atomic.Int64
			var closed atomic.Bool
			late := make(chan string, 1)
			cb := func(what string) {
				completed.Add(1)
				if closed.Load() {
					select {
					case late <- what:
					default:
					}
				}
			}
			var wg sync.WaitGroup
			for _, s := range []*socket.Socket{a, b} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 20; i++ {
						if s.Send([][]byte{make([]byte, 1000)}, func(error) { cb("send") }) == nil {
							accepted.Add(1)
						}
						if s.Receive([][]byte{make([]byte, 100)}, func(int, error) { cb("receive") }) == nil {
							accepted.Add(1)
						}
						if s.NotifyIO(socket.Readable, func(error) { cb("notify") }) == nil {
							accepted.Add(1)
						}
					}
				}()
			}
			var cw sync.WaitGroup
			cw.Add(2)
			go func() { defer cw.Done(); a.Close() }()
			go func() { defer cw.Done(); wg.Wait(); b.Close() }()
			cw.Wait()
			wg.Wait()
			a.Close()
			b.Close()
			closed.Store(true)
			if got, want := completed.Load(), accepted.Load(); got != want {
				t.Fatalf("round %d: %d completions for %d accepted operations", round, got, want)
			}
			select {
			case what := <-late:
				t.Fatalf("round %d: a %s callback ran after Close returned", round, what)
			default:
			}
		}
	})
}

func TestCompletionNeverRunsInsideTheCall(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *engine.Engine) {
		a, b := pair(t, e, nil)
		result := make(chan string, 1)
		if err := b.Receive([][]byte{make([]byte, 1)}, func(int, error) {
			var inCall atomic.Bool
			inCall.Store(true)
			ran := make(chan bool, 1)
			if err := b.Send([][]byte{{1}}, func(error) { ran <- inCall.Load() }); err != nil {
				result <- err.Error()
				return
			}
			inCall.Store(false)
			select {
			case <-ran:
				result <- "send completion ran inside Send"
			default:
				result <- ""
			}
		}); err != nil {
			t.Fatal(err)
		}
		sendSync(t, a, []byte{1})
		if msg := recv(t, result, "callback"); msg != "" {
			t.Fatal(msg)
		}
	})
}

// A callback that starts the next receive, with data already waiting, does
// not grow the stack however many complete in a row.
func TestReentryIsStackSafe(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *engine.Engine) {
		a, b := pair(t, e, nil)
		const total = 20000
		payload := bytes.Repeat([]byte{7}, total)
		sendSync(t, a, payload)
		var minDepth, maxDepth, got int
		minDepth = 1 << 30
		done := make(chan error, 1)
		buf := make([]byte, 1)
		pcs := make([]uintptr, 512)
		var step func(n int, err error)
		step = func(n int, err error) {
			if err != nil {
				done <- err
				return
			}
			d := runtime.Callers(0, pcs)
			minDepth, maxDepth = min(minDepth, d), max(maxDepth, d)
			got += n
			if got == total {
				done <- nil
				return
			}
			if err := b.Receive([][]byte{buf}, step); err != nil {
				done <- err
			}
		}
		if err := b.Receive([][]byte{buf}, step); err != nil {
			t.Fatal(err)
		}
		if err := recv(t, done, "20000 one-byte receives"); err != nil {
			t.Fatal(err)
		}
		if maxDepth-minDepth > 4 {
			t.Fatalf("stack depth grew from %d to %d frames", minDepth, maxDepth)
		}
	})
}

func TestCallbacksOfOneSocketNeverOverlap(t *testing.T) {
	e := newEngine(t, engine.Config{Loops: 2, Workers: &engine.WorkerConfig{Min: 4, Max: 8}})
	a, b := pair(t, e, nil)
	var active, overlaps atomic.Int32
	var wg sync.WaitGroup
	cb := func() {
		if active.Add(1) > 1 {
			overlaps.Add(1)
		}
		runtime.Gosched()
		active.Add(-1)
		wg.Done()
	}
	const n = 500
	wg.Add(2 * n)
	for i := 0; i < n; i++ {
		if err := a.Send([][]byte{{byte(i)}}, func(error) { cb() }); err != nil {
			t.Fatal(err)
		}
		if err := a.NotifyIO(socket.Writable, func(error) { cb() }); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	receiveAll(t, b, n)
	if overlaps.Load() != 0 {
		t.Fatalf("%d callbacks overlapped another of the same socket", overlaps.Load())
	}
}

// Sends issued in an order reach the wire, and complete, in that order —
// even when issued from several goroutines (c-pal can reorder them).
func TestSendsKeepIssueOrder(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *engine.Engine) {
		a, b := pair(t, e, nil)
		const perG, gs = 500, 4
		var mu sync.Mutex // makes the issue order well defined
		seq := 0
		var order []int
		var wg sync.WaitGroup
		wg.Add(perG * gs)
		for g := 0; g < gs; g++ {
			go func() {
				for i := 0; i < perG; i++ {
					mu.Lock()
					n := seq
					seq++
					msg := []byte(fmt.Sprintf("%08d", n))
					if err := a.Send([][]byte{msg[:4], msg[4:]}, func(err error) {
						if err != nil {
							t.Error(err)
						}
						mu.Lock()
						order = append(order, n)
						mu.Unlock()
						wg.Done()
					}); err != nil {
						t.Error(err)
						wg.Done()
					}
					mu.Unlock()
				}
			}()
		}
		got := receiveAll(t, b, perG*gs*8)
		wg.Wait()
		for i := 0; i < perG*gs; i++ {
			if want := fmt.Sprintf("%08d", i); string(got[8*i:8*i+8]) != want {
				t.Fatalf("message %d on the wire is %q", i, got[8*i:8*i+8])
			}
			if order[i] != i {
				t.Fatalf("completion %d was send %d", i, order[i])
			}
		}
	})
}

// Receives are queued, not displaced (c-pal keeps one), and served in order.
func TestReceivesQueueInOrder(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *engine.Engine) {
		a, b := pair(t, e, nil)
		type res struct {
			i, n int
			err  error
		}
		ch := make(chan res, 3)
		bufs := [][]byte{make([]byte, 2), make([]byte, 2), make([]byte, 2)}
		for i := range bufs {
			if err := b.Receive([][]byte{bufs[i]}, func(n int, err error) { ch <- res{i, n, err} }); err != nil {
				t.Fatal(err)
			}
		}
		sendSync(t, a, []byte("aabbcc"))
		var got []byte
		for want := 0; want < 3; want++ {
			r := recv(t, ch, "receive")
			if r.err != nil || r.i != want {
				t.Fatalf("completion %d: receive %d err %v", want, r.i, r.err)
			}
			got = append(got, bufs[r.i][:r.n]...)
			if r.n < 2 { // a short segment: the next receive takes the rest
				break
			}
		}
		if !bytes.HasPrefix([]byte("aabbcc"), got) || len(got) == 0 {
			t.Fatalf("got %q", got)
		}
	})
}

// Bytes that arrived before the peer's close are all delivered before the
// end of stream, even when the close came first (c-pal loses them).
func TestNoDataLostAtEndOfStream(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *engine.Engine) {
		for _, halfClose := range []bool{false, true} {
			a, b := pair(t, e, nil)
			payload := bytes.Repeat([]byte("0123456789"), 10000)
			sendSync(t, a, payload)
			if halfClose {
				if err := a.CloseWrite(); err != nil {
					t.Fatal(err)
				}
			} else {
				a.Close()
			}
			got := receiveAll(t, b, len(payload))
			if !bytes.Equal(got, payload) {
				t.Fatalf("halfClose=%v: bytes differ", halfClose)
			}
			ch := make(chan rcvResult, 1)
			if err := b.Receive([][]byte{make([]byte, 10)}, func(n int, err error) { ch <- rcvResult{n, err} }); err != nil {
				t.Fatal(err)
			}
			r := recv(t, ch, "end of stream")
			if r.n != 0 || !errors.Is(r.err, socket.ErrAbandoned) || !errors.Is(r.err, io.EOF) {
				t.Fatalf("halfClose=%v: n=%d err=%v, want 0, Abandoned, EOF", halfClose, r.n, r.err)
			}
			if halfClose { // the half-closed side still receives
				sendSync(t, b, []byte("back"))
				if got := receiveAll(t, a, 4); string(got) != "back" {
					t.Fatalf("after half-close got %q", got)
				}
			}
		}
	})
}

// A vectored send that blocks midway completes OK only once every buffer
// is written, in order (c-pal drops the later buffers and reports OK).
func TestVectoredSendThatBlocksMidway(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *engine.Engine) {
		a, b := pair(t, e, nil)
		var bufs [][]byte
		var want []byte
		for i := 0; i < 64; i++ {
			p := bytes.Repeat([]byte{byte(i)}, 256<<10)
			bufs = append(bufs, p)
			want = append(want, p...)
		}
		sent := make(chan error, 1)
		if err := a.Send(bufs, func(err error) { sent <- err }); err != nil {
			t.Fatal(err)
		}
		// The peer is not reading: 16 MiB cannot all be in kernel buffers.
		select {
		case err := <-sent:
			t.Fatalf("send completed (%v) before the peer read", err)
		default:
		}
		got := receiveAll(t, b, len(want))
		if err := recv(t, sent, "send"); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatal("bytes differ")
		}
	})
}

func TestSocketsSpreadOverLoops(t *testing.T) {
	e := newEngine(t, engine.Config{Loops: 4})
	seen := map[int]bool{}
	for i := 0; i < 8; i++ {
		a, b := pair(t, e, nil)
		seen[a.LoopID()] = true
		seen[b.LoopID()] = true
	}
	if len(seen) < 2 {
		t.Fatalf("16 sockets all on loops %v", seen)
	}
}

func TestNotifyIO(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *engine.Engine) {
		a, b := pair(t, e, nil)
		w := make(chan error, 1)
		if err := a.NotifyIO(socket.Writable, func(err error) { w <- err }); err != nil {
			t.Fatal(err)
		}
		if err := recv(t, w, "writable"); err != nil {
			t.Fatal(err)
		}
		r := make(chan error, 1)
		if err := b.NotifyIO(socket.Readable, func(err error) { r <- err }); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-r:
			t.Fatalf("readable (%v) with nothing sent", err)
		default:
		}
		sendSync(t, a, []byte("x"))
		if err := recv(t, r, "readable"); err != nil {
			t.Fatal(err)
		}
		// Readiness consumed nothing: the byte is still there.
		if got := receiveAll(t, b, 1); string(got) != "x" {
			t.Fatalf("got %q", got)
		}
		if err := b.NotifyIO(socket.Readable, func(err error) { r <- err }); err != nil {
			t.Fatal(err)
		}
		b.Close()
		if err := recv(t, r, "abandoned notify"); !errors.Is(err, socket.ErrAbandoned) {
			t.Fatalf("notify at close: %v", err)
		}
	})
}

func TestReceiveLent(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *engine.Engine) {
		a, b := pair(t, e, nil)
		got := make(chan []byte, 1)
		if err := b.ReceiveLent(func(p []byte, err error) {
			if err != nil {
				t.Error(err)
			}
			got <- append([]byte(nil), p...) // p is only valid here
		}); err != nil {
			t.Fatal(err)
		}
		sendSync(t, a, []byte("lent"))
		if p := recv(t, got, "lent receive"); string(p) != "lent" {
			t.Fatalf("got %q", p)
		}
	})
}

func TestIdleTimeout(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *engine.Engine) {
		a, b := pair(t, e, &socket.Options{IdleTimeout: 50 * time.Millisecond})
		ch := make(chan rcvResult, 1)
		start := time.Now()
		if err := b.Receive([][]byte{make([]byte, 1)}, func(n int, err error) { ch <- rcvResult{n, err} }); err != nil {
			t.Fatal(err)
		}
		r := recv(t, ch, "timeout")
		if !errors.Is(r.err, socket.ErrTimeout) {
			t.Fatalf("got n=%d err=%v, want ErrTimeout", r.n, r.err)
		}
		if el := time.Since(start); el < 50*time.Millisecond {
			t.Fatalf("timed out after %v", el)
		}
		// The socket is still open and works.
		sendSync(t, a, []byte("z"))
		if got := receiveAll(t, b, 1); string(got) != "z" {
			t.Fatalf("got %q", got)
		}
	})
}

func TestSendQueueCap(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *engine.Engine) {
		a, b := pair(t, e, &socket.Options{MaxQueuedSend: 1 << 20})
		big := make([]byte, 32<<20)
		first := make(chan error, 1)
		// A send into an empty queue is always accepted, whatever its size.
		if err := a.Send([][]byte{big}, func(err error) { first <- err }); err != nil {
			t.Fatal(err)
		}
		var calls atomic.Int32
		err := a.Send([][]byte{make([]byte, 1)}, func(error) { calls.Add(1) })
		if !errors.Is(err, socket.ErrSendQueueFull) {
			t.Fatalf("second send: %v, want ErrSendQueueFull", err)
		}
		receiveAll(t, b, len(big))
		if err := recv(t, first, "big send"); err != nil {
			t.Fatal(err)
		}
		a.Close()
		if calls.Load() != 0 {
			t.Fatal("a rejected send ran its callback")
		}
	})
}

func TestListenErrorSaysWhereAndWhy(t *testing.T) {
	e := newEngine(t, engine.Config{Loops: 1})
	ln, err := socket.Listen(e, "127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	_, err = socket.Listen(e, addr, nil)
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("got %v, want EADDRINUSE", err)
	}
	if msg := err.Error(); !bytes.Contains([]byte(msg), []byte(addr)) || !bytes.Contains([]byte(msg), []byte("address already in use")) {
		t.Fatalf("error %q does not say where and why", msg)
	}
}

func TestDialRefused(t *testing.T) {
	e := newEngine(t, engine.Config{Loops: 1})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ch := make(chan error, 1)
	if err := socket.Dial(e, addr, nil, func(s *socket.Socket, err error) { ch <- err }); err != nil {
		t.Fatal(err)
	}
	if err := recv(t, ch, "dial"); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("got %v, want ECONNREFUSED", err)
	}
}

// A peer reset under pending operations abandons the receive with the
// reset as cause, and later sends fail.
func TestPeerReset(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *engine.Engine) {
		for i := 0; i < 20; i++ {
			ln, err := socket.Listen(e, "127.0.0.1:0", nil)
			if err != nil {
				t.Fatal(err)
			}
			acc := make(chan *socket.Socket, 1)
			ln.Accept(func(s *socket.Socket, err error) { acc <- s })
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			s := recv(t, acc, "accept")
			ln.Close()
			ch := make(chan rcvResult, 1)
			if err := s.Receive([][]byte{make([]byte, 8)}, func(n int, err error) { ch <- rcvResult{n, err} }); err != nil {
				t.Fatal(err)
			}
			c.(*net.TCPConn).SetLinger(0)
			c.Close() // RST
			r := recv(t, ch, "receive under reset")
			if r.n != 0 || !errors.Is(r.err, socket.ErrAbandoned) {
				t.Fatalf("n=%d err=%v", r.n, r.err)
			}
			// A send now fails: synchronously with NotOpen, or in its callback.
			sent := make(chan error, 1)
			for j := 0; j < 3; j++ {
				err := s.Send([][]byte{[]byte("x")}, func(err error) { sent <- err })
				if err != nil {
					if !errors.Is(err, socket.ErrNotOpen) {
						t.Fatalf("sync send error %v, want NotOpen", err)
					}
					break
				}
				if err := recv(t, sent, "send after reset"); err != nil {
					break
				}
			}
			s.Close()
		}
	})
}

func TestEngineCloseWaitsForSockets(t *testing.T) {
	e, err := engine.New(engine.Config{Loops: 1, CloseTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	a, b := pair(t, e, nil)
	if err := e.Close(); !errors.Is(err, engine.ErrBusy) {
		t.Fatalf("close with open sockets: %v, want ErrBusy", err)
	}
	a.Close()
	b.Close()
	if err := e.Close(); err != nil {
		t.Fatalf("close after sockets closed: %v", err)
	}
	if err := socket.New(e, nil).Open(nil, func(error) {}); err == nil {
		t.Fatal("open on a closed engine succeeded")
	}
}

func TestAddressesAndOptions(t *testing.T) {
	e := newEngine(t, engine.Config{Loops: 1})
	a, b := pair(t, e, &socket.Options{KeepAlive: 30 * time.Second})
	if a.LocalAddr() == nil || a.RemoteAddr() == nil {
		t.Fatal("no addresses on an open socket")
	}
	if a.LocalAddr().String() != b.RemoteAddr().String() || a.RemoteAddr().String() != b.LocalAddr().String() {
		t.Fatalf("a %v->%v, b %v->%v", a.LocalAddr(), a.RemoteAddr(), b.LocalAddr(), b.RemoteAddr())
	}
	if err := a.SetNoDelay(false); err != nil {
		t.Fatal(err)
	}
	if err := a.SetKeepAlive(false); err != nil {
		t.Fatal(err)
	}
	a.Close()
	if a.LocalAddr() != nil {
		t.Fatal("closed socket still reports an address")
	}
	if err := a.SetNoDelay(true); !errors.Is(err, socket.ErrNotOpen) {
		t.Fatalf("option on closed socket: %v", err)
	}
}
