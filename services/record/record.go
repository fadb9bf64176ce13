// Package record is the recorder of seed 004, without its flaws: any number
// of clients at once; what each sends is cut into records (the whole
// connection, lines, or length-prefixed frames) and committed to a store in
// batches; a full queue stops reading from clients instead of dropping or
// growing; Stop and Start are quick and can be called at any time.
package record

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/overlap-go/overlap/engine"
	"github.com/overlap-go/overlap/protocols/framing"
	"github.com/overlap-go/overlap/server"
	"github.com/overlap-go/overlap/socket"
	"github.com/overlap-go/overlap/store"
)

// DefaultAddr is the seed's port.
const DefaultAddr = "0.0.0.0:4096"

// Defaults for Config.
const (
	DefaultMaxBody     = 64 << 20
	DefaultIdleTimeout = 5 * time.Minute
)

// Config describes a recorder.
type Config struct {
	Addr        string          // listen address (default DefaultAddr)
	Framing     framing.Framing // how a stream is cut into records (default Close)
	MaxBody     int             // record size limit (default 64 MiB)
	MaxConns    int             // 0 = no limit
	IdleTimeout time.Duration   // a silent client is recorded and closed (0 = default, <0 = never)
	Batch       store.BatchConfig
	Logger      *slog.Logger
}

// Service is a running or stopped recorder.
type Service struct {
	st  store.Store
	b   *store.Batcher[*store.Record]
	srv *server.Server
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	live     int           // connections not yet finished
	drained  chan struct{} // closed when live reaches 0 during Stop
	stopping atomic.Bool
	lastErr  string

	conns, bytesIn, records atomic.Int64 // totals since New
}

// New returns a stopped recorder writing to st. The service owns a batcher
// on st; Close releases it (not st).
func New(e *engine.Engine, st store.Store, cfg Config) *Service {
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Batch.Logger == nil {
		cfg.Batch.Logger = cfg.Logger
	}
	s := &Service{st: st, cfg: cfg, log: cfg.Logger.With("service", "record")}
	s.b = store.NewBatcher(st, cfg.Batch)
	opts := &socket.Options{}
	if cfg.IdleTimeout > 0 {
		opts.IdleTimeout = cfg.IdleTimeout
	}
	s.srv = server.New(e, server.Config{Name: "record", Addr: cfg.Addr, MaxConns: cfg.MaxConns, Socket: opts, Logger: cfg.Logger}, s)
	return s
}

// Start listens and starts recording. A failure (the address in use, say)
// is returned and kept for Status.
func (s *Service) Start() error {
	s.stopping.Store(false)
	err := s.srv.Start()
	s.mu.Lock()
	s.lastErr = ""
	if err != nil && !errors.Is(err, server.ErrRunning) {
		s.lastErr = err.Error()
	}
	s.mu.Unlock()
	return err
}

// Stop stops listening, closes every connection (storing what each sent so
// far, as ended by shutdown), and returns once all of it is committed or
// ctx ends. The service can be started again.
func (s *Service) Stop(ctx context.Context) error {
	s.stopping.Store(true)
	err := s.srv.Stop(ctx)
	// Connections paused on a full queue hold no receive, so closing them
	// completes nothing: wake them, and they find the socket closed.
	s.b.WakeWaiters()
	s.mu.Lock()
	wait := s.drained // a Stop already waiting: wait on the same signal
	if s.live > 0 && wait == nil {
		wait = make(chan struct{})
		s.drained = wait
	}
	s.mu.Unlock()
	if wait != nil {
		select {
		case <-wait:
		case <-ctx.Done():
			return errors.Join(err, fmt.Errorf("record: stop: connections still finishing: %w", ctx.Err()))
		}
	}
	return errors.Join(err, s.b.Flush(ctx))
}

// Close stops the service and its batcher.
func (s *Service) Close(ctx context.Context) error {
	return errors.Join(s.Stop(ctx), s.b.Close(ctx))
}

// SetAddr changes the address the next Start listens on.
func (s *Service) SetAddr(addr string) { s.srv.SetAddr(addr) }

// Addr returns the listening address, or nil when stopped.
func (s *Service) Addr() net.Addr { return s.srv.Addr() }

// Status is a snapshot of the service.
type Status struct {
	Running    bool          `json:"running"`
	Addr       string        `json:"addr,omitempty"`
	Error      string        `json:"error,omitempty"` // why the last Start failed
	Framing    string        `json:"framing"`
	Store      string        `json:"store"`
	OpenConns  int           `json:"open_conns"`
	Conns      int64         `json:"conns_total"`
	BytesIn    int64         `json:"bytes_in"`
	Received   int64         `json:"records_received"`
	Stored     int64         `json:"records_stored"`
	Pending    int64         `json:"pending_bytes"`
	StoreFails int64         `json:"store_failures"`
	Commits    int64         `json:"commits"`
	LastCommit time.Duration `json:"last_commit_ns"` // duration of the last store transaction
}

// Status returns a snapshot.
func (s *Service) Status() Status {
	bs := s.b.Stats()
	st := Status{
		Running: s.srv.Running(), Framing: s.cfg.Framing.String(), Store: s.st.String(),
		OpenConns: s.srv.Conns(), Conns: s.conns.Load(), BytesIn: s.bytesIn.Load(),
		Received: s.records.Load(), Stored: bs.Records, Pending: bs.Pending, StoreFails: bs.Failures, Commits: bs.Commits, LastCommit: bs.LastCommit,
	}
	if a := s.srv.Addr(); a != nil {
		st.Addr = a.String()
	}
	s.mu.Lock()
	st.Error = s.lastErr
	s.mu.Unlock()
	return st
}

// Flush waits until every record received so far is committed.
func (s *Service) Flush(ctx context.Context) error { return s.b.Flush(ctx) }

// ServeSocket records one connection (server.Handler).
func (s *Service) ServeSocket(sock *socket.Socket) {
	c := &conn{svc: s, s: sock, sp: framing.NewSplitter(s.cfg.Framing, s.cfg.MaxBody), room: true}
	if ap, err := netip.ParseAddrPort(addrString(sock.RemoteAddr())); err == nil {
		c.ip, c.port = ap.Addr().Unmap().String(), int(ap.Port())
	}
	c.local = addrString(sock.LocalAddr())
	c.onRecv = c.received
	c.emitFn = c.emit
	c.resumeFn = c.next
	s.conns.Add(1)
	s.mu.Lock()
	s.live++
	s.mu.Unlock()
	c.next()
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// finished is called once per connection when its last record is queued.
func (s *Service) finished() {
	s.mu.Lock()
	s.live--
	if s.live == 0 && s.drained != nil {
		close(s.drained)
		s.drained = nil
	}
	s.mu.Unlock()
}

// conn is one client's stream. Its methods run one at a time: receive
// callbacks on the socket's loop, or next on the batcher when a paused
// connection resumes (no receive is pending then).
type conn struct {
	svc       *Service
	s         *socket.Socket
	sp        *framing.Splitter
	ip, local string
	port      int
	room      bool
	done      bool
	onRecv    socket.ReceiveLentFunc
	emitFn    framing.EmitFunc
	resumeFn  func()
}

// next posts the next receive, or finishes if the socket is gone.
func (c *conn) next() {
	if err := c.s.ReceiveLent(c.onRecv); err != nil {
		c.finish(c.endOf(err))
	}
}

func (c *conn) received(p []byte, err error) {
	if err != nil {
		c.finish(c.endOf(err))
		return
	}
	c.svc.bytesIn.Add(int64(len(p)))
	if !c.sp.Feed(p, c.emitFn) {
		// A record passed the limit: it was stored cut and marked; the
		// client learns it by the close.
		c.done = true
		c.s.Close()
		c.svc.finished()
		return
	}
	if !c.room {
		c.room = true
		c.svc.b.WhenRoom(c.resumeFn)
		return
	}
	c.next()
}

// emit queues one record (from the splitter).
func (c *conn) emit(body []byte, limited bool) {
	end := store.Framed
	if limited {
		end = store.Limit
	}
	c.add(append([]byte{}, body...), end)
}

func (c *conn) add(body []byte, end store.End) {
	r := &store.Record{ReceivedAt: time.Now().UTC(), ClientIP: c.ip, ClientPort: c.port,
		ServerAddr: c.local, Size: int64(len(body)), Body: body, End: end}
	c.svc.records.Add(1)
	room, err := c.svc.b.Add(r)
	if err != nil {
		c.svc.log.Error("record not queued: the store is closed", "client", c.ip, "size", len(body))
		return
	}
	if !room && c.room {
		c.room = false
		c.svc.log.Debug("queue full: pausing reads", "client", c.ip, "port", c.port)
	}
}

// finish stores what the connection sent and has not been stored yet.
func (c *conn) finish(end store.End) {
	if c.done {
		return
	}
	c.done = true
	if c.svc.cfg.Framing == framing.Close || c.sp.Pending() {
		c.add(c.sp.Rest(), end)
	}
	c.s.Close()
	c.svc.finished()
	c.svc.log.Debug("connection ended", "client", c.ip, "port", c.port, "end", end)
}

// endOf says how a connection ended from the error that ended it.
func (c *conn) endOf(err error) store.End {
	switch {
	case errors.Is(err, socket.ErrTimeout):
		return store.Idle
	case errors.Is(err, io.EOF):
		return store.Closed
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return store.Reset
	case c.svc.stopping.Load():
		return store.Shutdown
	}
	return store.Reset
}
