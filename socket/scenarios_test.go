// The integration scenarios of c-pal's Linux and Windows suites, ported
// (CONTRACT.md, "Integration scenarios").

package socket_test

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/overlap-go/overlap/engine"
	"github.com/overlap-go/overlap/socket"
)

// 1. Connect, post a receive on both ends, close both: each receive
// completes Abandoned; no hang.
func TestScenarioReceiveBothThenClose(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *engine.Engine) {
		a, b := pair(t, e, nil)
		ch := make(chan rcvResult, 2)
		for _, s := range []*socket.Socket{a, b} {
			if err := s.Receive([][]byte{make([]byte, 8)}, func(n int, err error) { ch <- rcvResult{n, err} }); err != nil {
				t.Fatal(err)
			}
		}
		a.Close()
		b.Close()
		for i := 0; i < 2; i++ {
			r := recv(t, ch, "abandoned receive")
			if r.n != 0 || !errors.Is(r.err, socket.ErrAbandoned) {
				t.Fatalf("receive %d: n=%d err=%v, want 0 and ErrAbandoned", i, r.n, r.err)
			}
		}
	})
}

// 2. Send two bytes, receive them.
func TestScenarioSendTwoBytes(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *engine.Engine) {
		a, b := pair(t, e, nil)
		sendSync(t, a, []byte{0x42, 0x43})
		if got := receiveAll(t, b, 2); !bytes.Equal(got, []byte{0x42, 0x43}) {
			t.Fatalf("got %x", got)
		}
	})
}

// 3. Send two buffers (2 + 1 bytes), receive into two buffers (1 + 2): all
// three bytes arrive in order; also with the receive posted first.
func TestScenarioScatterGather(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *engine.Engine) {
		for _, recvFirst := range []bool{false, true} {
			a, b := pair(t, e, nil)
			r1, r2 := make([]byte, 1), make([]byte, 2)
			ch := make(chan rcvResult, 3)
			post := func() {
				if err := b.Receive([][]byte{r1, r2}, func(n int, err error) { ch <- rcvResult{n, err} }); err != nil {
					t.Fatal(err)
				}
			}
			if recvFirst {
				post()
			}
			sendSync(t, a, []byte{1, 2}, []byte{3})
			if !recvFirst {
				post()
			}
			// The three bytes may arrive in more than one segment: keep
			// receiving into what is left of the two buffers.
			got := 0
			for {
				r := recv(t, ch, "scatter receive")
				if r.err != nil || r.n <= 0 {
					t.Fatalf("n=%d err=%v", r.n, r.err)
				}
				got += r.n
				if got == 3 {
					break
				}
				rest := [][]byte{r1[min(got, 1):], r2[max(got-1, 0):]}
				if got >= 1 {
					rest = rest[1:]
				}
				if err := b.Receive(rest, func(n int, err error) { ch <- rcvResult{n, err} }); err != nil {
					t.Fatal(err)
				}
			}
			if r1[0] != 1 || r2[0] != 2 || r2[1] != 3 {
				t.Fatalf("recvFirst=%v: got %x %x, want 01 0203", recvFirst, r1, r2)
			}
		}
	})
}

// 4. The peer closes its end under a pending receive: Abandoned.
func TestScenarioPeerClosesUnderReceive(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *engine.Engine) {
		a, b := pair(t, e, nil)
		ch := make(chan rcvResult, 1)
		if err := b.Receive([][]byte{make([]byte, 8)}, func(n int, err error) { ch <- rcvResult{n, err} }); err != nil {
			t.Fatal(err)
		}
		a.Close()
		r := recv(t, ch, "receive")
		if r.n != 0 || !errors.Is(r.err, socket.ErrAbandoned) {
			t.Fatalf("n=%d err=%v", r.n, r.err)
		}
		if !errors.Is(r.err, io.EOF) && !errors.Is(r.err, socket.ErrAbandoned) {
			t.Fatalf("cause %v", r.err)
		}
	})
}

// 5. Close your own socket under a pending receive: Abandoned.
func TestScenarioCloseUnderReceive(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *engine.Engine) {
		_, b := pair(t, e, nil)
		ch := make(chan rcvResult, 1)
		if err := b.Receive([][]byte{make([]byte, 8)}, func(n int, err error) { ch <- rcvResult{n, err} }); err != nil {
			t.Fatal(err)
		}
		b.Close()
		// Close returned: the callback has already run.
		select {
		case r := <-ch:
			if r.n != 0 || !errors.Is(r.err, socket.ErrAbandoned) {
				t.Fatalf("n=%d err=%v", r.n, r.err)
			}
		default:
			t.Fatal("Close returned before the pending receive completed")
		}
	})
}

// 6. Several sends and receives in a row: byte counts add up; one callback
// per send.
func TestScenarioManySends(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *engine.Engine) {
		a, b := pair(t, e, nil)
		const sends = 100
		var callbacks atomic.Int32
		var wg sync.WaitGroup
		want := make([]byte, 0)
		for i := 0; i < sends; i++ {
			msg := bytes.Repeat([]byte{byte(i)}, i+1)
			want = append(want, msg...)
			wg.Add(1)
			if err := a.Send([][]byte{msg}, func(err error) {
				if err != nil {
					t.Errorf("send %d: %v", i, err)
				}
				callbacks.Add(1)
				wg.Done()
			}); err != nil {
				t.Fatal(err)
			}
		}
		got := receiveAll(t, b, len(want))
		wg.Wait()
		if !bytes.Equal(got, want) {
			t.Fatal("bytes differ")
		}
		if callbacks.Load() != sends {
			t.Fatalf("%d callbacks for %d sends", callbacks.Load(), sends)
		}
	})
}

// 7. 1000 connection pairs at once, one send and one receive each.
func TestScenarioThousandPairs(t *testing.T) {
	e := newEngine(t, engine.Config{Loops: 2})
	ln, err := socket.Listen(e, "127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const pairs = 1000
	var sent, received atomic.Int64
	var wg sync.WaitGroup
	wg.Add(2 * pairs)
	var mu sync.Mutex
	var all []*socket.Socket
	keep := func(s *socket.Socket) { mu.Lock(); all = append(all, s); mu.Unlock() }
	for i := 0; i < pairs; i++ {
		if err := ln.Accept(func(s *socket.Socket, err error) {
			if err != nil {
				t.Errorf("accept: %v", err)
				wg.Done()
				return
			}
			keep(s)
			buf := make([]byte, 4)
			if err := s.Receive([][]byte{buf}, func(n int, err error) {
				if err == nil {
					received.Add(int64(n))
				} else {
					t.Errorf("receive: %v", err)
				}
				wg.Done()
			}); err != nil {
				t.Errorf("receive: %v", err)
				wg.Done()
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < pairs; i++ {
		if err := socket.Dial(e, ln.Addr().String(), nil, func(s *socket.Socket, err error) {
			if err != nil {
				t.Errorf("dial: %v", err)
				wg.Done()
				return
			}
			keep(s)
			if err := s.Send([][]byte{{1}}, func(err error) {
				if err == nil {
					sent.Add(1)
				} else {
					t.Errorf("send: %v", err)
				}
				wg.Done()
			}); err != nil {
				t.Errorf("send: %v", err)
				wg.Done()
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if sent.Load() != pairs || received.Load() != pairs {
		t.Fatalf("sent %d, received %d bytes, want %d", sent.Load(), received.Load(), pairs)
	}
	for _, s := range all {
		s.Close()
	}
}
