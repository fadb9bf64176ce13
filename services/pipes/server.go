// Server: the pipes service on a gRPC server, over Go's net or over
// overlap's engine.

package pipes

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"

	"golang.org/x/net/netutil"
	"google.golang.org/grpc"

	"github.com/overlap-go/overlap/engine"
	pb "github.com/overlap-go/overlap/services/pipes/pipespb"
	"github.com/overlap-go/overlap/socket/netconn"
)

// Config describes a pipes server.
type Config struct {
	// Addr is the listen address, HOST:PORT; port 0 picks a free port.
	Addr string
	// Engine, when set, serves gRPC over overlap sockets (socket/netconn);
	// nil serves it over Go's net package. See docs/BENCHMARKS.md for what
	// each costs.
	Engine *engine.Engine
	// Logger receives the server's logs (nil = slog.Default()).
	Logger *slog.Logger
	// GRPC adds grpc-go server options (tests use it to shrink windows).
	GRPC []grpc.ServerOption
	// Service replaces the pipes service (nil = NewService); tests use it
	// to run handlers of their own.
	Service pb.PipesServer
	// MaxConns bounds open connections (0 = no bound); past it, new
	// clients wait in the kernel's backlog.
	MaxConns int
	// MaxCalls bounds the calls one connection may have open at once
	// (HTTP/2 concurrent streams); 0 means DefaultMaxCalls.
	MaxCalls uint32
}

// DefaultMaxCalls is the default bound on concurrent calls per connection:
// each open call holds a goroutine and a stream window on the server.
const DefaultMaxCalls = 256

// Server runs the pipes service. Start, Stop and Addr make it fit the same
// place in `overlap serve` as the socket services.
type Server struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	gs     *grpc.Server
	lis    net.Listener
	served chan error
}

// ErrRunning is returned by Start on a running server.
var ErrRunning = errors.New("pipes: already running")

// NewServer returns a stopped server.
func NewServer(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Server{cfg: cfg, log: cfg.Logger.With("service", "pipes")}
}

// Start listens and serves in the background. A listen failure names the
// service, the address and the cause (errors.Is works).
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gs != nil {
		return ErrRunning
	}
	var lis net.Listener
	var err error
	transport := "net"
	if s.cfg.Engine != nil {
		transport = "overlap"
		lis, err = netconn.Listen(s.cfg.Engine, s.cfg.Addr, nil)
	} else {
		lis, err = net.Listen("tcp", s.cfg.Addr)
	}
	if err != nil {
		return fmt.Errorf("pipes: %w", err)
	}
	if s.cfg.MaxConns > 0 {
		lis = netutil.LimitListener(lis, s.cfg.MaxConns)
	}
	maxCalls := s.cfg.MaxCalls
	if maxCalls == 0 {
		maxCalls = DefaultMaxCalls
	}
	gs := grpc.NewServer(append([]grpc.ServerOption{grpc.MaxConcurrentStreams(maxCalls)}, s.cfg.GRPC...)...)
	svc := s.cfg.Service
	if svc == nil {
		svc = NewService(s.log)
	}
	pb.RegisterPipesServer(gs, svc)
	served := make(chan error, 1)
	go func() { served <- gs.Serve(lis) }()
	s.gs, s.lis, s.served = gs, lis, served
	s.log.Info("listening", "addr", lis.Addr().String(), "transport", transport)
	return nil
}

// SetAddr changes the address used by the next Start (the admin page moves
// services with it).
func (s *Server) SetAddr(addr string) {
	s.mu.Lock()
	s.cfg.Addr = addr
	s.mu.Unlock()
}

// Addr returns the listening address, or nil when stopped.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lis == nil {
		return nil
	}
	return s.lis.Addr()
}

// Stop stops gracefully: no new calls, and calls in progress may finish
// until ctx ends, when every connection is closed.
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	gs, served := s.gs, s.served
	s.gs, s.lis, s.served = nil, nil, nil
	s.mu.Unlock()
	if gs == nil {
		return nil
	}
	graceful := make(chan struct{})
	go func() { gs.GracefulStop(); close(graceful) }()
	var err error
	select {
	case <-graceful:
	case <-ctx.Done():
		err = fmt.Errorf("pipes: stop: %w", ctx.Err())
		gs.Stop()
		<-graceful
	}
	<-served // Serve returns nil after a stop
	s.log.Info("stopped")
	return err
}
