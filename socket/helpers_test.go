// Test helpers shared by the contract tests: engines, connected pairs and
// result channels.

package socket_test

import (
	"testing"
	"time"

	"github.com/overlap-go/overlap/engine"
	"github.com/overlap-go/overlap/socket"
)

// engineModes runs a test on an engine whose callbacks run on the loops and
// on one whose callbacks run on workers.
var engineModes = []struct {
	name string
	cfg  engine.Config
}{
	{"loops", engine.Config{Loops: 2}},
	{"workers", engine.Config{Loops: 2, Workers: &engine.WorkerConfig{Min: 1, Max: 4}}},
}

func forEachMode(t *testing.T, f func(t *testing.T, e *engine.Engine)) {
	for _, m := range engineModes {
		t.Run(m.name, func(t *testing.T) {
			e := newEngine(t, m.cfg)
			f(t, e)
		})
	}
}

func newEngine(t testing.TB, cfg engine.Config) *engine.Engine {
	t.Helper()
	e, err := engine.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("engine close: %v", err)
		}
	})
	return e
}

const waitLimit = 20 * time.Second

// recv waits for a value or fails the test after waitLimit.
func recv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitLimit):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// pair returns two open sockets connected to each other over loopback:
// one dialed, one accepted.
func pair(t testing.TB, e *engine.Engine, opts *socket.Options) (client, server *socket.Socket) {
	t.Helper()
	ln, err := socket.Listen(e, "127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type res struct {
		s   *socket.Socket
		err error
	}
	acc := make(chan res, 1)
	dial := make(chan res, 1)
	if err := ln.Accept(func(s *socket.Socket, err error) { acc <- res{s, err} }); err != nil {
		t.Fatal(err)
	}
	if err := socket.Dial(e, ln.Addr().String(), opts, func(s *socket.Socket, err error) { dial <- res{s, err} }); err != nil {
		t.Fatal(err)
	}
	d := recv(t, dial, "dial")
	a := recv(t, acc, "accept")
	if d.err != nil || a.err != nil {
		t.Fatalf("dial %v, accept %v", d.err, a.err)
	}
	t.Cleanup(func() { d.s.Close(); a.s.Close() })
	return d.s, a.s
}

type rcvResult struct {
	n   int
	err error
}

// receiveAll posts receives until want bytes arrived, and returns them.
func receiveAll(t testing.TB, s *socket.Socket, want int) []byte {
	t.Helper()
	got := make([]byte, 0, want)
	buf := make([]byte, 64<<10)
	ch := make(chan rcvResult, 1)
	for len(got) < want {
		if err := s.Receive([][]byte{buf}, func(n int, err error) { ch <- rcvResult{n, err} }); err != nil {
			t.Fatalf("receive: %v", err)
		}
		r := recv(t, ch, "receive")
		if r.err != nil {
			t.Fatalf("receive after %d of %d bytes: %v", len(got), want, r.err)
		}
		got = append(got, buf[:r.n]...)
	}
	return got
}

// sendSync sends bufs and waits for the completion.
func sendSync(t testing.TB, s *socket.Socket, bufs ...[]byte) {
	t.Helper()
	ch := make(chan error, 1)
	if err := s.Send(bufs, func(err error) { ch <- err }); err != nil {
		t.Fatalf("send: %v", err)
	}
	if err := recv(t, ch, "send"); err != nil {
		t.Fatalf("send completed with %v", err)
	}
}
