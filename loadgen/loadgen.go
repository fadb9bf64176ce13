// Package loadgen is the load generator behind "overlap bench echo": it opens
// many TCP connections to an echo server, sends messages of a fixed size,
// verifies every echoed byte, and reports throughput, round-trip latency
// percentiles and errors.
//
// Each connection is served by its own goroutine (two when pipelining), using
// the standard net package, so the client side is deliberately simple and
// independent of the engine being measured. The per-message path reuses its
// buffers and records latency into a per-goroutine, fixed-size histogram, so
// it does not allocate.
package loadgen

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Default values applied by Run when the corresponding Config field is zero.
const (
	DefaultPipeline    = 1
	DefaultDialTimeout = 5 * time.Second
)

// MaxSize is the largest message size Run accepts, in bytes.
const MaxSize = 64 << 20

const (
	maxErrorSamples  = 5                      // distinct error strings kept in Result.ErrorSamples
	dialParallelism  = 128                    // connection attempts in flight during the dial phase
	progressInterval = 200 * time.Millisecond // how often the progress callback runs
)

// Config describes one load-generation run.
type Config struct {
	// Addr is the echo server's address, as accepted by net.Dial ("host:port").
	Addr string
	// Conns is the number of concurrent connections; it must be at least 1.
	Conns int
	// Size is the size of each message in bytes; it must be between 1 and MaxSize.
	Size int
	// Duration is how long traffic is measured, after Warmup; it must be positive.
	// The clock starts once all connection attempts have finished.
	Duration time.Duration
	// Pipeline is the number of messages kept in flight per connection.
	// Zero means DefaultPipeline (1, strict ping-pong).
	Pipeline int
	// Warmup is a period of traffic before Duration whose messages are
	// excluded from the Result's counts, rates and latencies. Errors during
	// warmup are still counted. Zero means no warmup.
	Warmup time.Duration
	// DialTimeout bounds each connection attempt. Zero means DefaultDialTimeout.
	DialTimeout time.Duration
	// MaxMessages, when positive, bounds the number of measured messages sent
	// over all connections; the run ends early once they have all been echoed.
	// Zero means unbounded. Duration always bounds the run as well.
	MaxMessages int64
}

// normalize applies defaults and validates c.
func (c Config) normalize() (Config, error) {
	if c.Pipeline == 0 {
		c.Pipeline = DefaultPipeline
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	switch {
	case c.Addr == "":
		return c, errors.New("loadgen: no address given")
	case c.Conns < 1:
		return c, fmt.Errorf("loadgen: connections must be at least 1, got %d", c.Conns)
	case c.Size < 1 || c.Size > MaxSize:
		return c, fmt.Errorf("loadgen: message size must be between 1 and %d bytes, got %d", MaxSize, c.Size)
	case c.Duration <= 0:
		return c, fmt.Errorf("loadgen: duration must be positive, got %v", c.Duration)
	case c.Pipeline < 1:
		return c, fmt.Errorf("loadgen: pipeline depth must be at least 1, got %d", c.Pipeline)
	case c.Warmup < 0:
		return c, fmt.Errorf("loadgen: warmup must not be negative, got %v", c.Warmup)
	case c.DialTimeout < 0:
		return c, fmt.Errorf("loadgen: dial timeout must not be negative, got %v", c.DialTimeout)
	case c.MaxMessages < 0:
		return c, fmt.Errorf("loadgen: max messages must not be negative, got %d", c.MaxMessages)
	}
	return c, nil
}

// Progress is a snapshot of a run in progress. Its counts are raw totals
// since traffic started, warmup included, so Messages/Elapsed is the rate so far.
type Progress struct {
	// Elapsed is the time since traffic started.
	Elapsed time.Duration
	// Messages is the number of messages echoed and verified so far.
	Messages int64
	// Bytes is the number of echoed payload bytes received so far.
	Bytes int64
	// Errors is the number of errors so far, including failed dials.
	Errors int64
}

// Result summarises a finished run. Counts, rates and latencies cover only
// the measurement window (after Warmup); Errors covers the whole run.
type Result struct {
	// Addr is the server address that was measured.
	Addr string
	// Conns is the number of connections requested.
	Conns int
	// Connected is the number of connections that were established.
	Connected int
	// Size is the message size in bytes.
	Size int
	// Pipeline is the number of messages in flight per connection.
	Pipeline int
	// Duration is the measured time: from the end of warmup until traffic
	// stopped. It is shorter than Config.Duration if the run ended early.
	Duration time.Duration
	// Messages is the number of messages echoed back intact.
	Messages int64
	// Bytes is the number of payload bytes echoed back intact
	// (Messages*Size); the same amount was sent.
	Bytes int64
	// Errors counts failed dials, connection errors (each ends its
	// connection) and corrupted echoes (each counts one message).
	Errors int64
	// MsgsPerSec is Messages divided by Duration.
	MsgsPerSec float64
	// MBPerSec is Bytes divided by Duration, in units of 10^6 bytes per second.
	MBPerSec float64
	// P50, P99 and P999 are round-trip latency percentiles per message,
	// accurate to about 1%; Max is the exact largest latency and Mean the
	// arithmetic mean.
	P50, P99, P999, Max, Mean time.Duration
	// ErrorSamples holds up to a few distinct error descriptions, in the
	// order they first occurred.
	ErrorSamples []string
}

// Run dials cfg.Conns connections to cfg.Addr and drives echo traffic over
// them until cfg.Warmup+cfg.Duration has passed, cfg.MaxMessages measured
// messages have been echoed, every connection has failed, or ctx is done.
// It closes all its connections before returning.
//
// If progress is not nil it is called about every 200ms while traffic runs,
// and once more just before Run returns; calls never overlap and come from
// one goroutine at a time, never concurrently with each other.
//
// Run returns an error only if cfg is invalid or no connection at all could
// be established; the error then names the address and the reason. In every
// other case, including cancellation of ctx, the Result describes whatever
// traffic took place and the error is nil.
func Run(ctx context.Context, cfg Config, progress func(Progress)) (Result, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return Result{}, err
	}
	r := &runner{cfg: cfg}
	r.dialAll(ctx)
	defer r.closeAll()

	res := Result{
		Addr:      cfg.Addr,
		Conns:     cfg.Conns,
		Connected: len(r.workers),
		Size:      cfg.Size,
		Pipeline:  cfg.Pipeline,
	}
	if len(r.workers) == 0 {
		res.Errors, res.ErrorSamples = r.errs.snapshot()
		reason := "no reason given"
		if len(res.ErrorSamples) > 0 {
			reason = res.ErrorSamples[0]
		}
		return res, fmt.Errorf("loadgen: could not connect to %s: %s", cfg.Addr, reason)
	}

	r.start = time.Now()
	r.warmupEnd = r.start.Add(cfg.Warmup)
	deadline := r.warmupEnd.Add(cfg.Duration)
	runCtx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	stopWatch := context.AfterFunc(runCtx, r.stopAll)
	defer stopWatch()

	var wg sync.WaitGroup
	for _, w := range r.workers {
		if cfg.Pipeline == 1 {
			wg.Go(func() { r.pingPong(w) })
		} else {
			wg.Go(func() { r.pipelined(w) })
		}
	}

	progStop := make(chan struct{})
	progDone := make(chan struct{})
	if progress != nil {
		go func() {
			defer close(progDone)
			t := time.NewTicker(progressInterval)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					progress(r.progress())
				case <-progStop:
					return
				}
			}
		}()
	} else {
		close(progDone)
	}

	wg.Wait()
	end := time.Now()
	close(progStop)
	<-progDone
	if progress != nil {
		progress(r.progress())
	}

	if end.After(deadline) {
		end = deadline
	}
	if end.After(r.warmupEnd) {
		res.Duration = end.Sub(r.warmupEnd)
	}
	var h histogram
	for _, w := range r.workers {
		res.Messages += w.measured.Load()
		h.merge(w.hist)
	}
	res.Bytes = res.Messages * int64(cfg.Size)
	res.Errors, res.ErrorSamples = r.errs.snapshot()
	if secs := res.Duration.Seconds(); secs > 0 {
		res.MsgsPerSec = float64(res.Messages) / secs
		res.MBPerSec = float64(res.Bytes) / 1e6 / secs
	}
	res.P50 = h.quantile(0.50)
	res.P99 = h.quantile(0.99)
	res.P999 = h.quantile(0.999)
	res.Max = h.quantile(1)
	res.Mean = h.mean()
	return res, nil
}

// runner holds the state shared by all connections of one run.
type runner struct {
	cfg       Config
	workers   []*worker // established connections, by id
	start     time.Time // traffic start
	warmupEnd time.Time // start of the measurement window
	stopped   atomic.Bool
	tickets   atomic.Int64 // measured messages claimed, for MaxMessages
	errs      errorSink
}

// worker is one connection and its private statistics.
type worker struct {
	id       int
	conn     net.Conn
	hist     *histogram
	all      atomic.Int64 // messages echoed intact, warmup included
	measured atomic.Int64 // messages echoed intact in the measurement window
	_        [64]byte     // keep neighbouring workers' counters off this cache line
}

// dialAll connects cfg.Conns times, a bounded number of attempts at once,
// and fills r.workers with the connections that succeeded.
func (r *runner) dialAll(ctx context.Context) {
	d := net.Dialer{Timeout: r.cfg.DialTimeout}
	sem := make(chan struct{}, dialParallelism)
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for i := range r.cfg.Conns {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c, err := d.DialContext(ctx, "tcp", r.cfg.Addr)
			if err != nil {
				r.errs.add(err.Error())
				return
			}
			w := &worker{id: i, conn: c, hist: new(histogram)}
			mu.Lock()
			r.workers = append(r.workers, w)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.SortFunc(r.workers, func(a, b *worker) int { return a.id - b.id })
}

// stopAll marks the run as over and unblocks every connection's pending I/O.
func (r *runner) stopAll() {
	r.stopped.Store(true)
	for _, w := range r.workers {
		w.conn.SetDeadline(aLongTimeAgo)
	}
}

// closeAll closes every connection.
func (r *runner) closeAll() {
	for _, w := range r.workers {
		w.conn.Close()
	}
}

// aLongTimeAgo is a deadline in the past, used to interrupt blocked I/O.
var aLongTimeAgo = time.Unix(1, 0)

// progress sums the workers' counters.
func (r *runner) progress() Progress {
	p := Progress{Elapsed: time.Since(r.start), Errors: r.errs.count.Load()}
	for _, w := range r.workers {
		p.Messages += w.all.Load()
	}
	p.Bytes = p.Messages * int64(r.cfg.Size)
	return p
}

// claim reports whether another message may be sent, and whether it falls
// in the measurement window. It returns ok == false once the run is stopping
// or MaxMessages measured messages have been claimed.
func (r *runner) claim(now time.Time) (measured, ok bool) {
	if r.stopped.Load() {
		return false, false
	}
	measured = !now.Before(r.warmupEnd)
	if measured && r.cfg.MaxMessages > 0 && r.tickets.Add(1) > r.cfg.MaxMessages {
		return true, false
	}
	return measured, true
}

// connError records an error that ends a connection, unless the run is
// already stopping (then the error is just the interruption).
func (r *runner) connError(err error) {
	if r.stopped.Load() {
		return
	}
	r.errs.add(err.Error())
}

// delivered accounts for one echoed message.
func (r *runner) delivered(w *worker, sent, recv []byte, seq uint64, measured bool, latency time.Duration) {
	if !bytes.Equal(sent, recv) {
		r.errs.add(mismatch(w.id, seq, sent, recv))
		return
	}
	w.all.Add(1)
	if measured {
		w.measured.Add(1)
		w.hist.record(latency)
	}
}

// pingPong drives one connection with a single message in flight.
func (r *runner) pingPong(w *worker) {
	size := r.cfg.Size
	wbuf := make([]byte, size)
	rbuf := make([]byte, size)
	for seq := uint64(0); ; seq++ {
		measured, ok := r.claim(time.Now())
		if !ok {
			return
		}
		fillPattern(wbuf, uint64(w.id), seq)
		t0 := time.Now()
		if _, err := w.conn.Write(wbuf); err != nil {
			r.connError(err)
			return
		}
		if n, err := io.ReadFull(w.conn, rbuf); err != nil {
			r.connError(readError(err, n, size))
			return
		}
		r.delivered(w, wbuf, rbuf, seq, measured, time.Since(t0))
	}
}

// inflight describes a message the writer has sent and the reader awaits.
type inflight struct {
	seq      uint64
	sent     time.Time
	measured bool
}

// pipelined drives one connection with up to cfg.Pipeline messages in
// flight: this goroutine writes, a second one reads and matches echoes to
// sent messages in FIFO order.
func (r *runner) pipelined(w *worker) {
	size, depth := r.cfg.Size, r.cfg.Pipeline
	slots := make(chan struct{}, depth) // one token per message in flight
	queue := make(chan inflight, depth) // sent messages, oldest first
	done := make(chan struct{})         // closed when the connection ends
	var once sync.Once
	finish := func(err error) {
		once.Do(func() {
			if err != nil {
				r.connError(err)
			}
			close(done)
			w.conn.SetDeadline(aLongTimeAgo)
		})
	}

	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		rbuf := make([]byte, size)
		ebuf := make([]byte, size)
		for {
			var m inflight
			var ok bool
			select {
			case m, ok = <-queue:
			case <-done:
				return
			}
			if !ok { // the writer stopped and everything sent was echoed
				finish(nil)
				return
			}
			if n, err := io.ReadFull(w.conn, rbuf); err != nil {
				finish(readError(err, n, size))
				return
			}
			latency := time.Since(m.sent)
			fillPattern(ebuf, uint64(w.id), m.seq)
			r.delivered(w, ebuf, rbuf, m.seq, m.measured, latency)
			<-slots
		}
	}()

	wbuf := make([]byte, size)
	func() {
		defer close(queue)
		for seq := uint64(0); ; seq++ {
			select {
			case slots <- struct{}{}:
			case <-done:
				return
			}
			measured, ok := r.claim(time.Now())
			if !ok {
				return
			}
			fillPattern(wbuf, uint64(w.id), seq)
			queue <- inflight{seq: seq, sent: time.Now(), measured: measured}
			if _, err := w.conn.Write(wbuf); err != nil {
				finish(err)
				return
			}
		}
	}()
	<-readerDone
}

// readError describes a failed read of an echoed message of size bytes, of
// which n had arrived.
func readError(err error, n, size int) error {
	switch {
	case errors.Is(err, io.EOF):
		return errors.New("read: server closed the connection (EOF)")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("read: server closed the connection after %d of %d bytes of a message", n, size)
	}
	return err
}

// mismatch describes the first difference between a sent message and its echo.
func mismatch(conn int, seq uint64, want, got []byte) string {
	i := 0
	for i < len(want) && want[i] == got[i] {
		i++
	}
	return fmt.Sprintf("echo mismatch on connection %d, message %d: byte %d of %d is 0x%02x, want 0x%02x",
		conn, seq, i, len(want), got[i], want[i])
}

// fillPattern fills b with the content of message seq on connection conn: a
// splitmix64 sequence seeded by both, so every message differs and any
// corrupted, lost, duplicated or reordered data is detected.
func fillPattern(b []byte, conn, seq uint64) {
	x := conn*0xD1B54A32D192ED03 ^ seq
	for len(b) >= 8 {
		x += 0x9E3779B97F4A7C15
		binary.LittleEndian.PutUint64(b, mix64(x))
		b = b[8:]
	}
	if len(b) > 0 {
		x += 0x9E3779B97F4A7C15
		z := mix64(x)
		for i := range b {
			b[i] = byte(z)
			z >>= 8
		}
	}
}

// mix64 is the splitmix64 output function.
func mix64(z uint64) uint64 {
	z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
	z = (z ^ z>>27) * 0x94D049BB133111EB
	return z ^ z>>31
}

// errorSink counts errors and keeps a few distinct samples. It is safe for
// concurrent use.
type errorSink struct {
	count   atomic.Int64
	mu      sync.Mutex
	samples []string
}

// add counts one error described by s.
func (e *errorSink) add(s string) {
	e.count.Add(1)
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.samples) < maxErrorSamples && !slices.Contains(e.samples, s) {
		e.samples = append(e.samples, s)
	}
}

// snapshot returns the error count and a copy of the samples.
func (e *errorSink) snapshot() (int64, []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.count.Load(), slices.Clone(e.samples)
}
