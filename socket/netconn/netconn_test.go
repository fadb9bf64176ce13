package netconn

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/net/nettest"

	"github.com/overlap-go/overlap/engine"
)

func newEngine(t testing.TB, workers bool) *engine.Engine {
	t.Helper()
	cfg := engine.Config{}
	if workers {
		cfg.Workers = &engine.WorkerConfig{Min: 1, Max: 4}
	}
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

// pipeOn makes a connected pair of Conns over loopback on e.
func pipeOn(e *engine.Engine) (c1, c2 net.Conn, stop func(), err error) {
	ln, err := Listen(e, "127.0.0.1:0", nil)
	if err != nil {
		return nil, nil, nil, err
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	acceptErr := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			acceptErr <- err
			return
		}
		accepted <- c
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := Dial(ctx, e, ln.Addr().String(), nil)
	if err != nil {
		return nil, nil, nil, err
	}
	select {
	case a := <-accepted:
		return d, a, func() { d.Close(); a.Close() }, nil
	case err := <-acceptErr:
		d.Close()
		return nil, nil, nil, err
	}
}

// The x/net/nettest conformance suite for net.Conn: basic I/O, ping-pong,
// racing reads and writes, every kind of deadline (past, present, future,
// changed while blocked), close under blocked calls, concurrent methods.
func TestConnConformance(t *testing.T) {
	for _, workers := range []bool{false, true} {
		name := "loops"
		if workers {
			name = "workers"
		}
		t.Run(name, func(t *testing.T) {
			e := newEngine(t, workers)
			nettest.TestConn(t, func() (net.Conn, net.Conn, func(), error) { return pipeOn(e) })
		})
	}
}

func TestEndOfStreamResetAndClosedErrors(t *testing.T) {
	e := newEngine(t, false)
	c1, c2, stop, err := pipeOn(e)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if _, err := c1.Write([]byte("last words")); err != nil {
		t.Fatal(err)
	}
	if err := c1.(*Conn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c2)
	if err != nil || string(got) != "last words" {
		t.Fatalf("read to end: %q %v", got, err)
	}
	if _, err := c2.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read after end: %v", err)
	}
	c2.Close()
	if _, err := c2.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
	if _, err := c2.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
	if err := c2.Close(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("second close: %v", err)
	}
	if err := c2.SetDeadline(time.Now()); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("deadline after close: %v", err)
	}
	// The peer closed: c1's writes fail (reset) sooner or later, and its
	// read sees the end.
	if _, err := c1.Read(make([]byte, 1)); err != io.EOF && !isReset(err) {
		t.Fatalf("read from a closed peer: %v", err)
	}
	var werr error
	for range 1000 {
		if _, werr = c1.Write(make([]byte, 64<<10)); werr != nil {
			break
		}
	}
	if werr == nil {
		t.Fatal("writes to a closed peer kept succeeding")
	}
}

func isReset(err error) bool { return err != nil && strings.Contains(err.Error(), "reset") }

func TestListenerCloseAndErrors(t *testing.T) {
	e := newEngine(t, false)
	if _, err := Listen(e, "256.0.0.1:0", nil); err == nil {
		t.Fatal("listen on a bad address succeeded")
	}
	ln, err := Listen(e, "127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(e, ln.Addr().String(), nil); err == nil || !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Fatalf("listen on a used address: %v", err)
	}
	// A connection accepted by the engine but never taken by Accept is
	// closed with the listener.
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	acceptErr := make(chan error, 1)
	ln2, _ := Listen(e, "127.0.0.1:0", nil)
	go func() { _, err := ln2.Accept(); acceptErr <- err }()
	ln2.Close()
	if err := <-acceptErr; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("accept on a closed listener: %v", err)
	}
	ln.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("connection left open by a closed listener: %v", err)
	}
	if err := ln.Close(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("second close: %v", err)
	}
}

// net/http runs on the engine through the adapter, and everything it
// started is gone once server and client are closed.
func TestHTTPServerOnTheEngine(t *testing.T) {
	e := newEngine(t, false)
	snapshot := goleak.IgnoreCurrent()
	ln, err := Listen(e, "127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Write([]byte("got " + string(b)))
	})}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	tr := &http.Transport{}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	for i := range 20 {
		resp, err := client.Post("http://"+ln.Addr().String()+"/", "text/plain", strings.NewReader(strings.Repeat("x", i*1000)))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "got "+strings.Repeat("x", i*1000) {
			t.Fatalf("response %d: %d bytes", i, len(body))
		}
	}
	tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("serve: %v", err)
	}
	if err := goleak.Find(snapshot); err != nil {
		t.Fatal(err)
	}
}
