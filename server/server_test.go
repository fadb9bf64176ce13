// Tests of the server lifecycle: start, stop, restart, limits, errors.

package server_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/overlap-go/overlap/engine"
	"github.com/overlap-go/overlap/server"
	"github.com/overlap-go/overlap/services/echo"
)

func newEngine(t *testing.T) *engine.Engine {
	e, err := engine.New(engine.Config{Loops: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Error(err)
		}
	})
	return e
}

func stop(t *testing.T, s *server.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

func ping(t *testing.T, addr string) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte("ping")); err != nil {
		return err
	}
	b := make([]byte, 4)
	if _, err := io.ReadFull(c, b); err != nil {
		return err
	}
	if string(b) != "ping" {
		t.Fatalf("got %q", b)
	}
	return nil
}

func TestStopClosesConnectionsAndRefusesClients(t *testing.T) {
	e := newEngine(t)
	s := server.New(e, server.Config{Name: "echo", Addr: "127.0.0.1:0"}, echo.Handler{})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	addr := s.Addr().String()
	open, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	if err := ping(t, addr); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	stop(t, s)
	if el := time.Since(start); el > 100*time.Millisecond {
		t.Errorf("stop took %v", el)
	}
	if s.Running() || s.Conns() != 0 {
		t.Fatalf("after stop: running=%v conns=%d", s.Running(), s.Conns())
	}
	open.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := open.Read(make([]byte, 1)); err == nil {
		t.Fatal("connection still open after Stop")
	}
	if err := ping(t, addr); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("after stop: %v, want connection refused", err)
	}
	// Start again, on another port.
	s.SetAddr("127.0.0.1:0")
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); !errors.Is(err, server.ErrRunning) {
		t.Fatalf("second start: %v", err)
	}
	if err := ping(t, s.Addr().String()); err != nil {
		t.Fatal(err)
	}
	stop(t, s)
}

func TestStartFailsWithTheAddressAndCause(t *testing.T) {
	e := newEngine(t)
	a := server.New(e, server.Config{Name: "echo", Addr: "127.0.0.1:0"}, echo.Handler{})
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	defer stop(t, a)
	b := server.New(e, server.Config{Name: "echo", Addr: a.Addr().String()}, echo.Handler{})
	err := b.Start()
	if !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), a.Addr().String()) || !strings.HasPrefix(err.Error(), "echo:") {
		t.Fatalf("got %v", err)
	}
}

func TestMaxConns(t *testing.T) {
	e := newEngine(t)
	s := server.New(e, server.Config{Name: "echo", Addr: "127.0.0.1:0", MaxConns: 2, Accepts: 4}, echo.Handler{})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer stop(t, s)
	addr := s.Addr().String()
	var conns []net.Conn
	for i := 0; i < 2; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write([]byte("x"))
		io.ReadFull(c, make([]byte, 1))
	}
	// The third connects (kernel backlog) but is not served until one
	// of the first two leaves.
	third, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	third.Write([]byte("y"))
	third.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := third.Read(make([]byte, 1)); err == nil {
		t.Fatal("third connection served beyond MaxConns")
	}
	conns[0].Close()
	third.SetReadDeadline(time.Now().Add(10 * time.Second))
	b := make([]byte, 1)
	if _, err := io.ReadFull(third, b); err != nil || b[0] != 'y' {
		t.Fatalf("third after a slot freed: %q %v", b, err)
	}
	conns[1].Close()
}
