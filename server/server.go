// Package server runs a TCP service on overlap's engine: it listens, keeps
// a number of accepts pending, hands each connection to a Handler, bounds
// the number of connections, and stops gracefully. It knows nothing of any
// protocol.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/overlap-go/overlap/engine"
	"github.com/overlap-go/overlap/socket"
)

// Handler serves one connection. It owns the socket from then on and must
// Close it when done; the server closes every open socket at Stop.
type Handler interface {
	ServeSocket(s *socket.Socket)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(s *socket.Socket)

// ServeSocket calls f(s).
func (f HandlerFunc) ServeSocket(s *socket.Socket) { f(s) }

// Config describes a service's listener.
type Config struct {
	// Name names the service in logs and errors ("echo").
	Name string
	// Addr is the listen address, HOST:PORT; port 0 picks a free port.
	Addr string
	// MaxConns bounds open connections (0 = no bound). At the bound the
	// server stops accepting; new clients wait in the kernel's backlog.
	MaxConns int
	// Accepts is the number of accepts kept pending (default 16).
	Accepts int
	// Socket options for accepted connections (nil = defaults).
	Socket *socket.Options
	// Logger receives the server's structured logs (nil = slog.Default()).
	Logger *slog.Logger
}

// ErrRunning is returned by Start on a running server.
var ErrRunning = errors.New("server: already running")

// Server is one service's listener and its connections.
type Server struct {
	eng *engine.Engine
	cfg Config
	h   Handler
	log *slog.Logger

	mu       sync.Mutex
	ln       *socket.Listener
	conns    map[*socket.Socket]struct{}
	posted   int // accepts pending on ln
	stopping bool
	backoff  time.Duration
	allGone  chan struct{} // closed when conns empties during Stop
	forgetFn func(*socket.Socket)
}

// New returns a stopped server.
func New(e *engine.Engine, cfg Config, h Handler) *Server {
	if cfg.Accepts <= 0 {
		cfg.Accepts = 16
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{eng: e, cfg: cfg, h: h, log: cfg.Logger.With("service", cfg.Name), conns: map[*socket.Socket]struct{}{}}
	s.forgetFn = s.forget
	return s
}

// Start listens on the configured address and starts accepting. A listen
// failure names the service, the address and the cause (errors.Is works).
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return ErrRunning
	}
	ln, err := socket.Listen(s.eng, s.cfg.Addr, s.cfg.Socket)
	if err != nil {
		return fmt.Errorf("%s: %w", s.cfg.Name, err)
	}
	s.ln, s.stopping, s.backoff = ln, false, 0
	s.postAcceptsLocked()
	s.log.Info("listening", "addr", ln.Addr().String())
	return nil
}

// SetAddr changes the address used by the next Start.
func (s *Server) SetAddr(addr string) {
	s.mu.Lock()
	s.cfg.Addr = addr
	s.mu.Unlock()
}

// Addr returns the listening address, or nil when stopped.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Running reports whether the server is listening.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ln != nil
}

// Conns returns the number of open connections.
func (s *Server) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

func (s *Server) postAcceptsLocked() {
	for s.ln != nil && !s.stopping && s.posted < s.cfg.Accepts &&
		(s.cfg.MaxConns == 0 || len(s.conns)+s.posted < s.cfg.MaxConns) {
		if err := s.ln.Accept(s.accepted); err != nil {
			return
		}
		s.posted++
	}
}

func (s *Server) accepted(c *socket.Socket, err error) {
	s.mu.Lock()
	s.posted--
	if err != nil {
		if s.stopping || errors.Is(err, socket.ErrAbandoned) {
			s.mu.Unlock()
			return
		}
		// Out of descriptors and the like: back off, as net/http does,
		// rather than spin on an error that will repeat.
		s.backoff = min(max(2*s.backoff, 5*time.Millisecond), time.Second)
		s.log.Warn("accept failed", "err", err, "retry_in", s.backoff)
		time.AfterFunc(s.backoff, func() {
			s.mu.Lock()
			s.postAcceptsLocked()
			s.mu.Unlock()
		})
		s.mu.Unlock()
		return
	}
	s.backoff = 0
	if s.stopping {
		s.mu.Unlock()
		c.Close()
		return
	}
	// Before the socket is visible to Stop, so that its close always
	// reaches forget.
	c.SetOnClosed(s.forgetFn)
	s.conns[c] = struct{}{}
	s.postAcceptsLocked()
	s.mu.Unlock()
	s.h.ServeSocket(c)
}

func (s *Server) forget(c *socket.Socket) {
	s.mu.Lock()
	delete(s.conns, c)
	if s.allGone != nil && len(s.conns) == 0 {
		close(s.allGone)
		s.allGone = nil
	}
	s.postAcceptsLocked()
	s.mu.Unlock()
}

// Stop stops accepting, closes every open connection and waits for them
// (bounded by ctx). A stopped server can be started again.
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	ln := s.ln
	if ln == nil {
		s.mu.Unlock()
		return nil
	}
	s.stopping = true
	s.mu.Unlock()
	ln.Close()
	s.mu.Lock()
	open := make([]*socket.Socket, 0, len(s.conns))
	for c := range s.conns {
		open = append(open, c)
	}
	var gone chan struct{}
	if len(s.conns) > 0 {
		gone = make(chan struct{})
		s.allGone = gone
	}
	s.mu.Unlock()
	for _, c := range open {
		c.Close()
	}
	var err error
	if gone != nil {
		select {
		case <-gone:
		case <-ctx.Done():
			err = fmt.Errorf("%s: stop: %w", s.cfg.Name, ctx.Err())
		}
	}
	s.mu.Lock()
	s.ln, s.posted = nil, 0
	s.mu.Unlock()
	s.log.Info("stopped")
	return err
}
