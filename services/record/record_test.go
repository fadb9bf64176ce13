// Tests of the recorder on the real engine and real stores (SQLite and
// PostgreSQL): many clients, every kind of body and ending, limits,
// backpressure from a failing store, and stop/start.

package record_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/overlap-go/overlap/engine"
	"github.com/overlap-go/overlap/internal/storetest"
	"github.com/overlap-go/overlap/protocols/framing"
	"github.com/overlap-go/overlap/services/record"
	"github.com/overlap-go/overlap/store"
)

type fixture struct {
	svc  *record.Service
	st   store.Store
	addr string
	logs *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs a recorder on st with cfg (Addr defaults to a free loopback port).
func start(t testing.TB, st store.Store, cfg record.Config) *fixture {
	t.Helper()
	e, err := engine.New(engine.Config{Loops: 2})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	logs := &syncBuffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc := record.New(e, st, cfg)
	if err := svc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := svc.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
		if err := e.Close(); err != nil {
			t.Errorf("engine close: %v", err)
		}
	})
	return &fixture{svc: svc, st: st, addr: svc.Addr().String(), logs: logs}
}

func eachStore(t *testing.T, f func(t *testing.T, st store.Store)) {
	for name, mk := range storetest.URLs(t) {
		t.Run(name, func(t *testing.T) { f(t, storetest.Open(t, mk(t))) })
	}
}

// waitFor polls cond until it holds, failing the test after 20 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// send dials, writes body, half-closes and waits for the server's close.
func send(addr string, body []byte) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	if _, err := c.Write(body); err != nil {
		return err
	}
	c.(*net.TCPConn).CloseWrite()
	_, err = io.Copy(io.Discard, c)
	return err
}

func all(t testing.TB, f *fixture) []store.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := f.svc.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	rs, err := f.st.Query(ctx, store.Filter{Ascending: true})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestThousandClientsDistinctBodies(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		f := start(t, st, record.Config{})
		const n = 1000
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				body := bytes.Repeat([]byte(fmt.Sprintf("client %04d;", i)), 1+i%50)
				if err := send(f.addr, body); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		rs := all(t, f)
		if len(rs) != n {
			t.Fatalf("%d records, want exactly %d", len(rs), n)
		}
		seen := map[int]bool{}
		for _, r := range rs {
			var i int
			if _, err := fmt.Sscanf(string(r.Body), "client %04d;", &i); err != nil {
				t.Fatalf("unexpected body %q", r.Body[:min(len(r.Body), 40)])
			}
			want := bytes.Repeat([]byte(fmt.Sprintf("client %04d;", i)), 1+i%50)
			if seen[i] || !bytes.Equal(r.Body, want) || r.Size != int64(len(want)) || r.End != store.Closed {
				t.Fatalf("record for client %d: duplicate=%v, %d bytes, end %s", i, seen[i], len(r.Body), r.End)
			}
			if r.ClientIP != "127.0.0.1" || r.ClientPort == 0 || r.ServerAddr != f.addr {
				t.Fatalf("addresses: %+v", r)
			}
			seen[i] = true
		}
	})
}

func TestBodiesAndEndings(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		f := start(t, st, record.Config{MaxBody: 1 << 16, IdleTimeout: 200 * time.Millisecond})
		every := make([]byte, 3*256)
		for i := range every {
			every[i] = byte(i)
		}
		if err := send(f.addr, every); err != nil {
			t.Fatal(err)
		}
		if err := send(f.addr, nil); err != nil {
			t.Fatal(err)
		}
		// Over the limit: the first MaxBody bytes are kept, the client is closed.
		big := bytes.Repeat([]byte("0123456789abcdef"), (1<<16)/16+100)
		c, err := net.Dial("tcp", f.addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Write(big) // may fail once the server has closed
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		if _, err := io.Copy(io.Discard, c); err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("over the limit: want the server's close, got %v", err)
		}
		c.Close()
		// Reset mid-body: what arrived before the reset is kept.
		c, err = net.Dial("tcp", f.addr)
		if err != nil {
			t.Fatal(err)
		}
		before := f.svc.Status().BytesIn
		c.Write([]byte("half a body"))
		waitFor(t, "the server to read the half body", func() bool { return f.svc.Status().BytesIn >= before+11 })
		c.(*net.TCPConn).SetLinger(0)
		c.Close()
		// A silent client is recorded and closed.
		c, err = net.Dial("tcp", f.addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("then silence"))
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		if n, err := c.Read(make([]byte, 1)); n != 0 || err != io.EOF {
			t.Fatalf("silent client: want the server's close, got %d, %v", n, err)
		}
		c.Close()
		waitFor(t, "5 records", func() bool { return f.svc.Status().Received == 5 })
		rs := all(t, f)
		want := []struct {
			body []byte
			end  store.End
		}{{every, store.Closed}, {[]byte{}, store.Closed}, {big[:1<<16], store.Limit}, {[]byte("half a body"), store.Reset}, {[]byte("then silence"), store.Idle}}
		if len(rs) != len(want) {
			t.Fatalf("%d records, want %d", len(rs), len(want))
		}
		for i, w := range want {
			if !bytes.Equal(rs[i].Body, w.body) || rs[i].End != w.end || rs[i].Size != int64(len(w.body)) {
				t.Errorf("record %d: %d bytes ended %s; want %d bytes ended %s", i, len(rs[i].Body), rs[i].End, len(w.body), w.end)
			}
		}
	})
}

func TestLinesAndLengthFraming(t *testing.T) {
	st := storetest.Open(t, storetest.SQLiteURL(t))
	lines := start(t, st, record.Config{Framing: framing.Lines})
	if err := send(lines.addr, []byte("alpha\nbeta\n\ngamma")); err != nil {
		t.Fatal(err)
	}
	st2 := storetest.Open(t, storetest.SQLiteURL(t))
	length := start(t, st2, record.Config{Framing: framing.Length})
	var msg []byte
	for _, s := range []string{"one", "", "three\n"} {
		msg = binary.BigEndian.AppendUint32(msg, uint32(len(s)))
		msg = append(msg, s...)
	}
	msg = append(msg, 0, 0, 0, 9, 'p', 'a', 'r') // a frame cut short
	if err := send(length.addr, msg); err != nil {
		t.Fatal(err)
	}
	check := func(f *fixture, want []string, ends []store.End) {
		t.Helper()
		rs := all(t, f)
		var got []string
		var gotEnds []store.End
		for _, r := range rs {
			got, gotEnds = append(got, string(r.Body)), append(gotEnds, r.End)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) || fmt.Sprint(gotEnds) != fmt.Sprint(ends) {
			t.Fatalf("got %q %v, want %q %v", got, gotEnds, want, ends)
		}
	}
	check(lines, []string{"alpha", "beta", "", "gamma"}, []store.End{store.Framed, store.Framed, store.Framed, store.Closed})
	check(length, []string{"one", "", "three\n", "par"}, []store.End{store.Framed, store.Framed, store.Framed, store.Closed})
}

// TestStopStoresOpenConnectionsAndStartsAgain: Stop records what connected
// clients sent so far as ended by shutdown, refuses new clients, and Start
// listens again (on a new address).
func TestStopStoresOpenConnectionsAndStartsAgain(t *testing.T) {
	st := storetest.Open(t, storetest.SQLiteURL(t))
	f := start(t, st, record.Config{})
	var conns []net.Conn
	var sent int64
	for i := range 20 {
		c, err := net.Dial("tcp", f.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		n, _ := fmt.Fprintf(c, "open %d", i)
		sent += int64(n)
		conns = append(conns, c)
	}
	waitFor(t, "the server to read every client", func() bool { return f.svc.Status().BytesIn == sent })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	begin := time.Now()
	if err := f.svc.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("Stop with 20 open clients took %v", time.Since(begin))
	if s := f.svc.Status(); s.Running || s.Stored != 20 {
		t.Fatalf("after Stop: %+v", s)
	}
	if c, err := net.Dial("tcp", f.addr); err == nil {
		c.Close()
		t.Fatal("a stopped recorder accepted a connection")
	}
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Fatal("a connection stayed open after Stop")
		}
	}
	f.svc.SetAddr("127.0.0.1:0")
	if err := f.svc.Start(); err != nil {
		t.Fatal(err)
	}
	if err := send(f.svc.Addr().String(), []byte("after restart")); err != nil {
		t.Fatal(err)
	}
	rs := all(t, f)
	if len(rs) != 21 || string(rs[20].Body) != "after restart" {
		t.Fatalf("%d records", len(rs))
	}
	for _, r := range rs[:20] {
		if r.End != store.Shutdown || !strings.HasPrefix(string(r.Body), "open ") {
			t.Fatalf("open connection stored as %q ended %s", r.Body, r.End)
		}
	}
}

func TestAddressInUse(t *testing.T) {
	st := storetest.Open(t, storetest.SQLiteURL(t))
	f := start(t, st, record.Config{})
	e, err := engine.New(engine.Config{Loops: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	other := record.New(e, st, record.Config{Addr: f.addr})
	defer other.Close(context.Background())
	err = other.Start()
	if !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), f.addr) {
		t.Fatalf("want address in use naming %s, got %v", f.addr, err)
	}
	if s := other.Status(); s.Running || !strings.Contains(s.Error, "address already in use") {
		t.Fatalf("status after a failed start: %+v", s)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestStoreDownPausesReading: with the store down, the recorder stops
// reading once its queue is full (the client's writes block), says so in
// its log, loses nothing, and stores everything once the store is back.
func TestStoreDownPausesReading(t *testing.T) {
	ds := storetest.NewFlaky(storetest.Open(t, storetest.SQLiteURL(t)))
	ds.Down.Store(true)
	const budget = 256 << 10
	f := start(t, ds, record.Config{Framing: framing.Lines, Batch: store.BatchConfig{Budget: budget}})
	c, err := net.Dial("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	line := append(bytes.Repeat([]byte("x"), 1023), '\n')
	stream := bytes.Repeat(line, 32<<10) // 32 MiB: far more than the queue and the kernel's buffers hold
	// Write until a write makes no progress for a while: the recorder has
	// stopped reading. Were it not pausing, the whole stream would go through.
	var n int
	for n < len(stream) {
		c.SetWriteDeadline(time.Now().Add(500 * time.Millisecond))
		m, err := c.Write(stream[n:min(len(stream), n+1<<20)])
		n += m
		if errors.Is(err, syscall.EAGAIN) || isTimeout(err) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if n == len(stream) {
		t.Fatalf("the whole %d-byte stream was read with the store down and a %d-byte queue: not paused", n, budget)
	}
	select {
	case <-ds.Failed:
	default:
		t.Fatal("the store was never tried")
	}
	if !strings.Contains(f.logs.String(), "store unavailable") {
		t.Fatalf("the log does not say the store is down:\n%s", f.logs.String())
	}
	in := f.svc.Status().BytesIn
	t.Logf("paused after reading %d bytes (queue %d bytes)", in, budget)
	ds.Down.Store(false)
	c.SetWriteDeadline(time.Time{})
	if _, err := c.Write(stream[n:]); err != nil {
		t.Fatal(err)
	}
	c.(*net.TCPConn).CloseWrite()
	c.SetReadDeadline(time.Now().Add(60 * time.Second))
	io.Copy(io.Discard, c)
	rs := all(t, f)
	if len(rs) != len(stream)/1024 {
		t.Fatalf("wrote %d lines, stored %d records", len(stream)/1024, len(rs))
	}
	for _, r := range rs {
		if len(r.Body) != 1023 {
			t.Fatalf("a record of %d bytes", len(r.Body))
		}
	}
	if !strings.Contains(f.logs.String(), "store is back") {
		t.Fatal("the log does not say the store came back")
	}
}

// TestSlowClient: a client that sends a byte at a time, across many reads,
// gets exactly its lines stored.
func TestSlowClient(t *testing.T) {
	st := storetest.Open(t, storetest.SQLiteURL(t))
	f := start(t, st, record.Config{Framing: framing.Lines})
	c, err := net.Dial("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := []byte("slow\nand steady\n")
	for i := range msg {
		if _, err := c.Write(msg[i : i+1]); err != nil {
			t.Fatal(err)
		}
		want := int64(i + 1)
		waitFor(t, "the server to read each byte", func() bool { return f.svc.Status().BytesIn == want })
	}
	c.(*net.TCPConn).CloseWrite()
	io.Copy(io.Discard, c)
	rs := all(t, f)
	if len(rs) != 2 || string(rs[0].Body) != "slow" || string(rs[1].Body) != "and steady" {
		t.Fatalf("records %+v", rs)
	}
}
