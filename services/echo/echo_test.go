// Tests of the echo service on the real engine: many clients, slow
// readers, resets and half-closes.

package echo_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/overlap-go/overlap/engine"
	"github.com/overlap-go/overlap/server"
	"github.com/overlap-go/overlap/services/echo"
)

func startEcho(t testing.TB) (*server.Server, string) {
	t.Helper()
	e, err := engine.New(engine.Config{Loops: 2})
	if err != nil {
		t.Fatal(err)
	}
	s := server.New(e, server.Config{Name: "echo", Addr: "127.0.0.1:0", Accepts: 64}, echo.Handler{})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
		if err := e.Close(); err != nil {
			t.Errorf("engine close: %v", err)
		}
	})
	return s, s.Addr().String()
}

// echoOnce sends msg and reads back len(msg) bytes, which must be equal.
func echoOnce(c net.Conn, msg []byte) error {
	if _, err := c.Write(msg); err != nil {
		return err
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		return err
	}
	if !bytes.Equal(got, msg) {
		return errors.New("echo differs from what was sent")
	}
	return nil
}

func TestEightThousandClients(t *testing.T) {
	if testing.Short() {
		t.Skip("8,000 connections; skipped with -short")
	}
	_, addr := startEcho(t)
	const clients = 8000
	deadline := time.Now().Add(2 * time.Minute)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	start := make(chan struct{})
	sem := make(chan struct{}, 512) // dial in waves: the backlog is finite
	conns := make([]net.Conn, clients)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			c, err := net.DialTimeout("tcp", addr, 30*time.Second)
			<-sem
			if err != nil {
				errs <- fmt.Errorf("client %d dial: %w", i, err)
				return
			}
			conns[i] = c
			c.SetDeadline(deadline)
			<-start // every client connected before any talks
			r := rand.New(rand.NewPCG(uint64(i), 1))
			for round := 0; round < 3; round++ {
				msg := make([]byte, 1+r.IntN(4096))
				for j := range msg {
					msg[j] = byte(r.Uint32())
				}
				if err := echoOnce(c, msg); err != nil {
					errs <- fmt.Errorf("client %d round %d: %w", i, round, err)
					return
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, c := range conns {
		c.Close()
	}
}

// A client that sends 64 MiB without reading: the server stops reading
// from it instead of buffering, and the echo is complete once it reads.
func TestSlowReaderKeepsServerMemoryBounded(t *testing.T) {
	_, addr := startEcho(t)
	const total = 64 << 20
	payload := make([]byte, total)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	// Write until the path is full: a write that cannot finish in a second
	// means neither the server nor the kernel takes more.
	written := 0
	for written < total {
		c.SetWriteDeadline(time.Now().Add(time.Second))
		n, err := c.Write(payload[written:min(written+(1<<20), total)])
		written += n
		if err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatal(err)
			}
			break
		}
	}
	if written == total {
		t.Fatal("64 MiB went in without the client reading: nothing pushed back")
	}
	runtime.GC()
	var during runtime.MemStats
	runtime.ReadMemStats(&during)
	grown := int64(during.HeapInuse) - int64(before.HeapInuse)
	t.Logf("stalled after %d MiB written; server heap grew %d KiB", written>>20, grown>>10)
	if grown > 4<<20 {
		t.Fatalf("heap grew %d bytes while the client did not read", grown)
	}

	// Now read everything while writing the rest.
	c.SetDeadline(time.Now().Add(time.Minute))
	werr := make(chan error, 1)
	go func() {
		_, err := c.Write(payload[written:])
		werr <- err
	}()
	got := make([]byte, total)
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, payload) {
		t.Fatal("echo differs")
	}
}

// Resets and half-closes, many times, racing the server's operations:
// the server survives, serves the next client, and leaks no connection.
func TestResetsAndHalfCloses(t *testing.T) {
	s, addr := startEcho(t)
	for i := 0; i < 300; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		tc := c.(*net.TCPConn)
		msg := bytes.Repeat([]byte{byte(i)}, 1+i*37%9000)
		switch i % 3 {
		case 0: // reset right after sending
			tc.Write(msg)
			tc.SetLinger(0)
			tc.Close()
		case 1: // half-close: every byte still comes back, then EOF
			tc.Write(msg)
			tc.CloseWrite()
			tc.SetReadDeadline(time.Now().Add(20 * time.Second))
			got, err := io.ReadAll(tc)
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("half-close %d: read %d of %d bytes, err %v", i, len(got), len(msg), err)
			}
			tc.Close()
		case 2: // reset in the middle of the echo
			tc.Write(msg)
			io.ReadFull(tc, make([]byte, len(msg)/2))
			tc.SetLinger(0)
			tc.Close()
		}
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if err := echoOnce(c, []byte("still here")); err != nil {
		t.Fatal(err)
	}
	c.Close()
	// Every connection gets closed by the server once its client is gone.
	deadline := time.Now().Add(20 * time.Second)
	for s.Conns() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still open", s.Conns())
		}
		runtime.Gosched()
	}
}

func TestStatsCountEchoedBytes(t *testing.T) {
	e, err := engine.New(engine.Config{Loops: 2})
	if err != nil {
		t.Fatal(err)
	}
	st := echo.NewStats(2)
	s := server.New(e, server.Config{Name: "echo", Addr: "127.0.0.1:0"}, echo.Handler{Stats: st})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { s.Stop(context.Background()); e.Close() }()
	for i := range 3 {
		c, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		if err := echoOnce(c, bytes.Repeat([]byte{byte(i)}, 100)); err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	if b, m := st.Totals(); b != 300 || m < 3 {
		t.Fatalf("counted %d bytes in %d messages, want 300 bytes in at least 3", b, m)
	}
}
