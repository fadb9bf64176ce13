// Tests for Run against small in-process TCP servers.

package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// startServer listens on 127.0.0.1:0 and runs handle for every accepted
// connection until the test ends. It returns the listen address.
func startServer(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				handle(c)
			})
		}
	})
	return ln.Addr().String()
}

// echo copies everything back.
func echo(c net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// corrupter returns a handler that echoes size-byte messages with their
// first byte flipped.
func corrupter(size int) func(net.Conn) {
	return func(c net.Conn) {
		buf := make([]byte, size)
		for {
			if _, err := io.ReadFull(c, buf); err != nil {
				return
			}
			buf[0] ^= 0xff
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	}
}

func TestEchoPingPong(t *testing.T) {
	addr := startServer(t, echo)
	var calls int
	var last Progress
	res, err := Run(context.Background(), Config{
		Addr: addr, Conns: 4, Size: 100, Duration: 300 * time.Millisecond,
	}, func(p Progress) { calls++; last = p })
	if err != nil {
		t.Fatal(err)
	}
	if res.Messages <= 0 || res.Errors != 0 {
		t.Fatalf("messages=%d errors=%d samples=%q", res.Messages, res.Errors, res.ErrorSamples)
	}
	if res.Connected != 4 || res.Conns != 4 || res.Pipeline != 1 || res.Size != 100 {
		t.Fatalf("unexpected config echo in result: %+v", res)
	}
	if res.Bytes != res.Messages*100 {
		t.Fatalf("bytes=%d, want %d", res.Bytes, res.Messages*100)
	}
	if res.Duration <= 0 || res.Duration > 300*time.Millisecond {
		t.Fatalf("duration=%v, want in (0, 300ms]", res.Duration)
	}
	if res.MsgsPerSec <= 0 || res.MBPerSec <= 0 {
		t.Fatalf("rates not computed: %+v", res)
	}
	if !(0 < res.P50 && res.P50 <= res.P99 && res.P99 <= res.P999 && res.P999 <= res.Max) {
		t.Fatalf("latencies not ordered: p50=%v p99=%v p999=%v max=%v", res.P50, res.P99, res.P999, res.Max)
	}
	if calls == 0 || last.Messages < res.Messages || last.Errors != 0 {
		t.Fatalf("progress: calls=%d last=%+v, result messages=%d", calls, last, res.Messages)
	}
}

func TestEchoPipelined(t *testing.T) {
	addr := startServer(t, echo)
	res, err := Run(context.Background(), Config{
		Addr: addr, Conns: 3, Size: 333, Pipeline: 16, Duration: 300 * time.Millisecond,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Messages <= 0 || res.Errors != 0 || res.Pipeline != 16 {
		t.Fatalf("messages=%d errors=%d pipeline=%d samples=%q", res.Messages, res.Errors, res.Pipeline, res.ErrorSamples)
	}
}

// A server that answers only once it holds a batch of several messages
// can only make progress if the client keeps that many in flight.
func TestPipelineKeepsMessagesInFlight(t *testing.T) {
	const size, batch = 64, 4
	addr := startServer(t, func(c net.Conn) {
		buf := make([]byte, size*batch)
		for {
			if _, err := io.ReadFull(c, buf); err != nil {
				return
			}
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	})
	res, err := Run(context.Background(), Config{
		Addr: addr, Conns: 1, Size: size, Pipeline: batch, Duration: 2 * time.Second, MaxMessages: 400,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Messages != 400 || res.Errors != 0 {
		t.Fatalf("messages=%d (want 400) errors=%d samples=%q", res.Messages, res.Errors, res.ErrorSamples)
	}

	// Ping-pong stalls on the same server; the duration still ends the
	// run, and the interrupted read is not an error.
	res, err = Run(context.Background(), Config{
		Addr: addr, Conns: 1, Size: size, Duration: 100 * time.Millisecond,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Messages != 0 || res.Errors != 0 {
		t.Fatalf("ping-pong: messages=%d (want 0) errors=%d samples=%q", res.Messages, res.Errors, res.ErrorSamples)
	}
}

func TestMaxMessagesEndsRunEarly(t *testing.T) {
	addr := startServer(t, echo)
	for _, p := range []int{1, 5} {
		res, err := Run(context.Background(), Config{
			Addr: addr, Conns: 3, Size: 10, Pipeline: p, Duration: time.Minute, MaxMessages: 500,
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Messages != 500 || res.Errors != 0 {
			t.Fatalf("pipeline %d: messages=%d (want 500) errors=%d", p, res.Messages, res.Errors)
		}
		if res.Duration >= time.Minute {
			t.Fatalf("pipeline %d: run was not cut short: %v", p, res.Duration)
		}
	}
}

func TestWarmupExcludedFromStats(t *testing.T) {
	addr := startServer(t, echo)
	var last Progress
	res, err := Run(context.Background(), Config{
		Addr: addr, Conns: 2, Size: 32, Warmup: 150 * time.Millisecond, Duration: 150 * time.Millisecond,
	}, func(p Progress) { last = p })
	if err != nil {
		t.Fatal(err)
	}
	if res.Messages <= 0 || res.Errors != 0 {
		t.Fatalf("messages=%d errors=%d", res.Messages, res.Errors)
	}
	if last.Messages <= res.Messages {
		t.Fatalf("progress total %d should exceed measured %d, which excludes warmup", last.Messages, res.Messages)
	}
	if res.Duration > 150*time.Millisecond {
		t.Fatalf("measured duration %v includes warmup", res.Duration)
	}
}

func TestCorruptedEchoIsDetected(t *testing.T) {
	addr := startServer(t, corrupter(50))
	for _, p := range []int{1, 4} {
		res, err := Run(context.Background(), Config{
			Addr: addr, Conns: 2, Size: 50, Pipeline: p, Duration: 200 * time.Millisecond,
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Errors == 0 {
			t.Fatalf("pipeline %d: corruption went unnoticed: %+v", p, res)
		}
		if len(res.ErrorSamples) == 0 || !strings.Contains(res.ErrorSamples[0], "echo mismatch") ||
			!strings.Contains(res.ErrorSamples[0], "byte 0 of 50") {
			t.Fatalf("pipeline %d: samples %q lack a mismatch description", p, res.ErrorSamples)
		}
		if res.Messages != 0 {
			t.Fatalf("pipeline %d: corrupted messages counted as delivered: %d", p, res.Messages)
		}
	}
}

func TestServerClosingConnectionsCountsErrors(t *testing.T) {
	const size = 20
	addr := startServer(t, func(c net.Conn) {
		buf := make([]byte, size)
		if _, err := io.ReadFull(c, buf); err == nil {
			c.Write(buf)
		}
		// Returning closes the connection.
	})
	start := time.Now()
	res, err := Run(context.Background(), Config{
		Addr: addr, Conns: 3, Size: size, Duration: 10 * time.Second,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 3 || len(res.ErrorSamples) == 0 {
		t.Fatalf("errors=%d (want one per connection) samples=%q", res.Errors, res.ErrorSamples)
	}
	if res.Messages != 3 {
		t.Fatalf("messages=%d, want the 3 echoed before closing", res.Messages)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("run did not end when all connections had failed")
	}
}

func TestDialClosedPortNamesAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	res, err := Run(context.Background(), Config{
		Addr: addr, Conns: 3, Size: 8, Duration: time.Second, DialTimeout: time.Second,
	}, nil)
	if err == nil {
		t.Fatal("expected an error")
	}
	if !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("error %q should name %s and the reason", err, addr)
	}
	if res.Errors != 3 || res.Connected != 0 || len(res.ErrorSamples) != 1 {
		t.Fatalf("errors=%d connected=%d samples=%q", res.Errors, res.Connected, res.ErrorSamples)
	}
}

func TestContextCancelStopsRun(t *testing.T) {
	addr := startServer(t, echo)
	ctx, cancel := context.WithCancel(context.Background())
	res, err := Run(ctx, Config{
		Addr: addr, Conns: 2, Size: 16, Duration: time.Minute,
	}, func(p Progress) {
		if p.Messages > 0 {
			cancel()
		}
	})
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	if res.Messages <= 0 || res.Errors != 0 || res.Duration >= time.Minute {
		t.Fatalf("messages=%d errors=%d duration=%v", res.Messages, res.Errors, res.Duration)
	}
}

func TestInvalidConfig(t *testing.T) {
	good := Config{Addr: "127.0.0.1:1", Conns: 1, Size: 1, Duration: time.Second}
	for name, mut := range map[string]func(*Config){
		"addr":     func(c *Config) { c.Addr = "" },
		"conns":    func(c *Config) { c.Conns = 0 },
		"size":     func(c *Config) { c.Size = 0 },
		"huge":     func(c *Config) { c.Size = MaxSize + 1 },
		"duration": func(c *Config) { c.Duration = 0 },
		"pipeline": func(c *Config) { c.Pipeline = -1 },
		"warmup":   func(c *Config) { c.Warmup = -1 },
		"max":      func(c *Config) { c.MaxMessages = -1 },
	} {
		c := good
		mut(&c)
		if _, err := Run(context.Background(), c, nil); err == nil {
			t.Errorf("%s: invalid config accepted", name)
		}
	}
}

func TestPatternDiffersPerMessageAndConnection(t *testing.T) {
	a, b, c := make([]byte, 13), make([]byte, 13), make([]byte, 13)
	fillPattern(a, 1, 1)
	fillPattern(b, 1, 2)
	fillPattern(c, 2, 1)
	if bytes.Equal(a, b) || bytes.Equal(a, c) {
		t.Fatalf("patterns repeat: %x %x %x", a, b, c)
	}
	fillPattern(b, 1, 1)
	if !bytes.Equal(a, b) {
		t.Fatal("pattern is not deterministic")
	}
}

func TestHotPathDoesNotAllocate(t *testing.T) {
	var h histogram
	w := &worker{hist: &h}
	r := &runner{}
	sent, recv := make([]byte, 100), make([]byte, 100)
	allocs := testing.AllocsPerRun(1000, func() {
		fillPattern(sent, 3, 7)
		copy(recv, sent)
		r.delivered(w, sent, recv, 7, true, 1234*time.Nanosecond)
		r.claim(time.Now())
	})
	if allocs != 0 {
		t.Fatalf("per-message work allocates %.1f times", allocs)
	}
}

func TestResultJSON(t *testing.T) {
	r := Result{
		Addr: "h:1", Conns: 2, Connected: 2, Size: 64, Pipeline: 1, Duration: 2 * time.Second,
		Messages: 10, Bytes: 640, Errors: 1, MsgsPerSec: 5, MBPerSec: 0.00032,
		P50: 1500 * time.Nanosecond, P99: 3 * time.Microsecond, P999: 4 * time.Microsecond,
		Max: 5 * time.Millisecond, Mean: 2 * time.Microsecond, ErrorSamples: []string{"boom"},
	}
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"addr": "h:1", "conns": 2.0, "connected": 2.0, "size": 64.0, "pipeline": 1.0,
		"duration_us": 2e6, "messages": 10.0, "bytes": 640.0, "errors": 1.0,
		"msgs_per_sec": 5.0, "mb_per_sec": 0.00032, "p50_us": 1.5, "p99_us": 3.0,
		"p999_us": 4.0, "max_us": 5000.0, "mean_us": 2.0,
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v (%T), want %v", k, m[k], m[k], v)
		}
	}
	if s, ok := m["error_samples"].([]any); !ok || len(s) != 1 || s[0] != "boom" {
		t.Errorf("error_samples = %v", m["error_samples"])
	}
	if len(m) != len(want)+1 {
		t.Errorf("unexpected keys: %v", m)
	}

	buf.Reset()
	if err := (Result{}).WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"error_samples": []`) {
		t.Errorf("empty samples should encode as []: %s", buf.String())
	}
}

func TestResultText(t *testing.T) {
	r := Result{
		Addr: "h:1", Conns: 2, Connected: 1, Size: 64, Pipeline: 4, Duration: time.Second,
		Messages: 1000, MsgsPerSec: 1000, P50: 12345 * time.Nanosecond, Errors: 1,
		ErrorSamples: []string{"dial tcp h:1: refused"},
	}
	var buf bytes.Buffer
	if err := r.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, s := range []string{"h:1", "1/2 connections", "64-byte", "pipeline 4", "1000.0 msg/s", "p50 12.35µs", "errors      1", "dial tcp h:1: refused"} {
		if !strings.Contains(out, s) {
			t.Errorf("text output lacks %q:\n%s", s, out)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteErrorsPropagate(t *testing.T) {
	if err := (Result{}).WriteText(failWriter{}); err == nil {
		t.Error("WriteText swallowed a write error")
	}
	if err := (Result{}).WriteJSON(failWriter{}); err == nil {
		t.Error("WriteJSON swallowed a write error")
	}
}

func TestRunAllocationsDoNotGrowWithMessages(t *testing.T) {
	addr := startServer(t, echo)
	for _, p := range []int{1, 8} {
		mallocs := func(n int64) uint64 {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			res, err := Run(context.Background(), Config{
				Addr: addr, Conns: 2, Size: 64, Pipeline: p, Duration: 10 * time.Second, MaxMessages: n,
			}, nil)
			runtime.ReadMemStats(&after)
			if err != nil || res.Messages != n {
				t.Fatalf("pipeline %d: err=%v messages=%d, want %d", p, err, res.Messages, n)
			}
			return after.Mallocs - before.Mallocs
		}
		small, big := mallocs(500), mallocs(10500)
		if perMsg := (float64(big) - float64(small)) / 10000; perMsg > 0.05 {
			t.Errorf("pipeline %d: %.3f allocations per message (runs of 500 and 10500 messages: %d and %d)", p, perMsg, small, big)
		}
	}
}
